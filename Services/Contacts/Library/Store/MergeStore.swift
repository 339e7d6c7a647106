import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Merging duplicates, and finding them.
struct MergeStore: ServiceStore {
    let service: ServiceDependencies
    let contacts: ContactStore

    /// Fields whose values are lists or maps: the merged contacts' entries are added to the survivor's.
    static let unitedFields: Set<String> = ["emails", "phones", "tags", "custom_fields", "consent"]
    static let choosableFields: Set<String> = Set(
        ContactFields.CodingKeys.allCases.map(\.rawValue)
    )

    func merge(_ request: MergeRequest) async throws -> Document {
        var check = FieldChecker()
        let mergedIds = request.mergedIds.reduce(into: [UUID]()) { if !$0.contains($1) { $0.append($1) } }
        if mergedIds.isEmpty { check.fail("merged_ids", "names no contact to merge") }
        if mergedIds.count > 50 { check.fail("merged_ids", "merges at most 50 contacts at once") }
        if mergedIds.contains(request.survivorId) { check.fail("merged_ids", "contains the survivor") }
        let involved = [request.survivorId] + mergedIds
        for (field, source) in request.fields ?? [:] {
            if !Self.choosableFields.contains(field) { check.fail("fields.\(field)", "is not a contact field") }
            if !involved.contains(source) { check.fail("fields.\(field)", "names a contact that is not part of the merge") }
        }
        try check.check(ContactsError.invalid)

        return try await client.transaction(logger: logger) { connection in
            var documents: [UUID: Document] = [:]
            for id in involved.sorted(by: { $0.uuidString < $1.uuidString }) {  // one lock order for every merge
                documents[id] = try await contacts.lockForWrite(id, on: connection)
            }
            let survivor = try documents[request.survivorId]!.decode(Contact.self)
            if let version = request.version, version != survivor.version {
                throw ContactsError.versionMismatch(expected: version, current: survivor.version)
            }
            var jsons: [UUID: [String: JSONValue]] = [:]
            for (id, document) in documents {
                if case let .object(members) = try document.json { jsons[id] = members }
            }
            let merged = Self.combine(
                survivor: jsons[request.survivorId]!, others: mergedIds.map { jsons[$0]! }, chosen: (request.fields ?? [:]).mapValues { jsons[$0]! }
            )
            let fields = try APICoding.decode(ContactFields.self, from: APICoding.encoder.encode(JSONValue.object(merged)), invalid: ContactsError.invalid)
            let definitions = try await CustomFieldStore.definitions(schema: schema, on: connection, logger: logger)
            var valid = try fields.validated(definitions: definitions, previous: fields.consent, now: Date())
            try await contacts.linkAccount(&valid.fields, on: connection)
            let result = try await contacts.write(valid, to: request.survivorId, on: connection)

            var sql = SQLBuilder()
            let survivorPlaceholder = try sql.bind(request.survivorId)
            let mergedPlaceholder = try sql.bind(mergedIds)
            sql.append("""
                WITH moved AS (
                    UPDATE \(schema.table("interactions")) SET contact_id = \(survivorPlaceholder)
                    WHERE contact_id = ANY(\(mergedPlaceholder)::uuid[]) RETURNING 1),
                retired AS (
                    UPDATE \(schema.table("contacts")) SET merged_into = \(survivorPlaceholder), deleted_at = date_trunc('milliseconds', now()),
                        updated_at = date_trunc('milliseconds', now()), version = version + 1
                    WHERE id = ANY(\(mergedPlaceholder)::uuid[]) RETURNING 1),
                repointed AS (
                    UPDATE \(schema.table("contacts")) SET merged_into = \(survivorPlaceholder)
                    WHERE merged_into = ANY(\(mergedPlaceholder)::uuid[]) RETURNING 1)
                SELECT (SELECT count(*) FROM moved)::text
                """)
            let movedInteractions = Int(try await connection.texts(sql.query, logger: logger)[0]) ?? 0

            let payload = JSONValue.object([
                "survivor": try result.json,
                "merged_ids": .array(mergedIds.map { .string($0.lowercased) }),
                "moved_interactions": .number(Double(movedInteractions)),
            ])
            try await outbox.append(
                EventEnvelope(
                    type: ContactEvents.contactMerged, producer: "contacts", aggregateId: request.survivorId,
                    aggregateVersion: survivor.version + 1, data: payload
                ),
                on: connection, logger: logger
            )
            return result
        }
    }

    /// Groups of live contacts that are likely one person: the same normalized e-mail, the same
    /// normalized phone, or the same full name at the same company. Keyset-paged on (reason, key);
    /// a contact may sit in several groups. It reads the whole table, so it is a report, not a lookup.
    func duplicateGroups(_ page: PageRequest) async throws -> RawPage {
        let contacts = schema.table("contacts")
        var sql = SQLBuilder()
        sql.append("""
            WITH live AS (
                SELECT id, first_name, last_name, company, email_keys, phone_keys, created_at FROM \(contacts) WHERE deleted_at IS NULL),
            groups AS (
                SELECT 'email' AS reason, k AS key, array_agg(id ORDER BY created_at, id) AS ids
                FROM live, unnest(email_keys) AS k GROUP BY k HAVING count(*) > 1
                UNION ALL
                SELECT 'phone', k, array_agg(id ORDER BY created_at, id)
                FROM live, unnest(phone_keys) AS k GROUP BY k HAVING count(*) > 1
                UNION ALL
                SELECT 'name_and_company', lower(first_name || ' ' || last_name || ' @ ' || company), array_agg(id ORDER BY created_at, id)
                FROM live WHERE first_name <> '' AND last_name <> '' AND company IS NOT NULL
                GROUP BY 2 HAVING count(*) > 1)
            SELECT jsonb_build_object('reason', g.reason, 'key', g.key, 'contacts',
                (SELECT jsonb_agg(jsonb_build_object(
                    'id', c.id, 'first_name', nullif(c.first_name, ''), 'last_name', nullif(c.last_name, ''),
                    'company', c.company, 'emails', c.emails, 'phones', c.phones,
                    'created_at', \(schema.quoted).ts(c.created_at)) ORDER BY c.created_at, c.id)
                 FROM \(contacts) c WHERE c.id = ANY(g.ids)))::text,
                ARRAY[g.reason, g.key]
            FROM groups g
            """)
        try sql.appendPage(page, in: Keyset([("g.reason", ""), ("g.key", "")]), connective: " WHERE ")
        return try await client.page(sql.query, limit: page.limit, logger: logger)
    }

    /// The survivor's fields, with chosen fields taken from their contact, blanks filled from the
    /// merged contacts in order, and list fields united. Consent per channel is the latest one
    /// anybody recorded: a withdrawal after a grant must win, whichever record it sits on.
    static func combine(
        survivor: [String: JSONValue], others: [[String: JSONValue]], chosen: [String: [String: JSONValue]]
    ) -> [String: JSONValue] {
        var result = survivor
        for name in Document.readOnlyMembers { result[name] = nil }
        for field in choosableFields {
            if let source = chosen[field] {
                result[field] = source[field] ?? .null
                continue
            }
            if unitedFields.contains(field) { continue }
            if isBlank(result[field]), let filler = others.lazy.compactMap({ $0[field] }).first(where: { !isBlank($0) }) {
                result[field] = filler
            }
        }
        let everyone = [survivor] + others
        if chosen["emails"] == nil { result["emails"] = united(everyone.map { $0["emails"] }, key: "address") }
        if chosen["phones"] == nil { result["phones"] = united(everyone.map { $0["phones"] }, key: "number") }
        if chosen["tags"] == nil { result["tags"] = united(everyone.map { $0["tags"] }, key: nil) }
        if chosen["custom_fields"] == nil {
            var values: [String: JSONValue] = [:]
            for contact in everyone.reversed() {
                if case let .object(fields)? = contact["custom_fields"] { values.merge(fields) { _, newer in newer } }
            }
            result["custom_fields"] = .object(values)
        }
        if chosen["consent"] == nil {
            var consent: [String: JSONValue] = [:]
            for contact in everyone {
                guard case let .object(channels)? = contact["consent"] else { continue }
                for (channel, record) in channels where latest(record, than: consent[channel]) { consent[channel] = record }
            }
            result["consent"] = .object(consent)
        }
        return result
    }

    private static func isBlank(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null: true
        case let .string(text): text.isEmpty
        case let .array(items): items.isEmpty
        case let .object(members): members.isEmpty
        default: false
        }
    }

    /// Entries of every list in order, each once (by `key`, case-insensitively); only the first
    /// list's primary stays primary.
    private static func united(_ lists: [JSONValue?], key: String?) -> JSONValue {
        var seen = Set<String>()
        var result: [JSONValue] = []
        for (index, list) in lists.enumerated() {
            guard case let .array(items)? = list else { continue }
            for item in items {
                let identity: String
                if let key, case let .object(members) = item, case let .string(text)? = members[key] {
                    identity = key == "number" ? (Normalize.phone(text) ?? text) : text.lowercased()
                } else if case let .string(text) = item {
                    identity = text.lowercased()
                } else {
                    continue
                }
                guard seen.insert(identity).inserted else { continue }
                var entry = item
                if index > 0, case var .object(members) = entry, members["primary"] != nil {
                    members["primary"] = .bool(false)
                    entry = .object(members)
                }
                result.append(entry)
            }
        }
        return .array(result)
    }

    private static func latest(_ record: JSONValue, than other: JSONValue?) -> Bool {
        guard let other else { return true }
        guard case let .object(new) = record, case let .string(newAt)? = new["at"] else { return false }
        guard case let .object(old) = other, case let .string(oldAt)? = old["at"] else { return true }
        return newAt > oldAt  // same fixed-width UTC format: text order is time order
    }
}
