import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Contacts in PostgreSQL: every write commits with its event in the outbox.
struct ContactStore: Sendable {
    let schema: SchemaName
    let client: PostgresClient
    let outbox: Outbox
    let logger: Logger

    var contacts: String { schema.table("contacts") }
    var document: String { "\(schema.quoted).contact_document(c)::text" }

    // MARK: Reads

    /// The contact, or the survivor it was merged into (`resolvedFrom` then names the asked id).
    func get(_ id: UUID) async throws -> (document: Document, resolvedFrom: UUID?) {
        try await client.withConnection { connection in
            try await resolve(id, on: connection, lock: false)
        }
    }

    /// Follows `merged_into` (merges re-point older aliases, so it is one step, but a few more are tolerated).
    func resolve(_ id: UUID, on connection: PostgresConnection, lock: Bool) async throws -> (document: Document, resolvedFrom: UUID?) {
        var current = id
        for _ in 0..<8 {
            var sql = SQLBuilder()
            sql.append("SELECT \(document), c.merged_into::text FROM \(contacts) c WHERE c.id = \(try sql.bind(current))")
            if lock { sql.append(" FOR UPDATE") }
            let rows = try await connection.query(sql.query, logger: logger).decode((String, String?).self)
            var found: (String, String?)?
            for try await row in rows { found = row }
            guard let (text, mergedInto) = found else { break }
            if let mergedInto, let survivor = UUID(uuidString: mergedInto) {
                current = survivor
                continue
            }
            let document = Document(text: text)
            if try document.decode(Contact.self).deletedAt != nil { break }
            return (document, current == id ? nil : id)
        }
        throw Problem.notFound("contact \(id.lowercased)")
    }

    func list(_ filter: ContactFilter) async throws -> RawPage {
        guard filter.search != nil else { return try await client.page(try listQuery(filter, walking: nil), limit: filter.limit, logger: logger) }
        // A search first walks a bounded stretch of the list's order and filters it: a term many
        // contacts match fills the page there at once, while the trigram index would have to
        // gather every match first. A page not filled there is a rarer term's, and comes from the
        // index, where a rare term is cheap; the planner, whose guess at how many rows a pattern
        // matches is often far off, is kept from walking the order again.
        let walked = try await client.page(try listQuery(filter, walking: Self.searchWalk), limit: filter.limit, logger: logger)
        if walked.nextCursor != nil { return walked }
        let query = try listQuery(filter, walking: nil)
        return try await client.transaction(logger: logger) { connection in
            try await connection.query("SET LOCAL enable_indexscan TO off", logger: logger)
            return try await connection.page(query, limit: filter.limit, logger: logger)
        }
    }

    /// Rows of the list's order a search filters before it turns to the trigram index.
    static let searchWalk = 5_000

    /// The page query. With `walking`, only that many rows of the order (after the cursor) are
    /// searched, so the answer is exact only when it fills the page.
    private func listQuery(_ filter: ContactFilter, walking: Int?) throws -> PostgresQuery {
        var sql = SQLBuilder()
        let keys = filter.sort.keys.joined(separator: ", ")
        func appendPosition() throws {
            guard let cursor = filter.cursor else { return }
            let placeholders = try zip(cursor.values, filter.sort.cursorTypes).map { value, type in
                try sql.bind(value) + "::\(type)"
            }
            sql.append(" AND (\(keys)) > (\(placeholders.joined(separator: ", ")))")
        }
        if let walking, let search = filter.search {
            sql.append("""
                SELECT \(schema.quoted).contact_document(c::\(contacts))::text, ARRAY[\(filter.sort.cursorValues)]
                FROM (SELECT c.* FROM \(contacts) c WHERE c.deleted_at IS NULL
                """)
            try filter.appendConditions(to: &sql, search: false)
            try appendPosition()
            sql.append(" ORDER BY \(keys) LIMIT \(walking)) c WHERE c.search LIKE \(try sql.bind(containsPattern(search)))")
        } else {
            sql.append("SELECT \(document), ARRAY[\(filter.sort.cursorValues)] FROM \(contacts) c WHERE c.deleted_at IS NULL")
            try filter.appendConditions(to: &sql, search: true)
            try appendPosition()
        }
        sql.append(" ORDER BY \(keys) LIMIT \(filter.limit + 1)")
        return sql.query
    }

    // MARK: Writes

    func create(_ input: ContactFields, allowDuplicate: Bool) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            let definitions = try await CustomFieldStore.definitions(schema: schema, on: connection, logger: logger)
            var valid = try input.validated(definitions: definitions, previous: nil, now: Date())
            try await linkAccount(&valid.fields, on: connection)
            if !allowDuplicate { try await rejectDuplicates(of: valid, excluding: nil, on: connection) }
            return try await insertWithEvents([valid], documents: true, on: connection).documents[0]
        }
    }

    /// The writable fields of a stored contact with a JSON merge patch applied.
    func fields(applying patch: JSONValue, to current: Document) throws -> ContactFields {
        try Document.writableFields(ContactFields.self, of: current, patchedWith: patch)
    }

    /// Inserts new contacts and their `created` events in one statement, the events built in the
    /// database from the stored rows, so the documents are not parsed and encoded again here.
    /// Returns the documents for an API answer, or with `documents: false` (an import's batch)
    /// only how many were written.
    func insertWithEvents(_ contacts: [ValidContact], documents: Bool, on connection: PostgresConnection) async throws -> (count: Int, documents: [Document]) {
        guard !contacts.isEmpty else { return (0, []) }
        var sql = SQLBuilder()
        let values = try insertValues(contacts, into: &sql)
        sql.append("""
            WITH inserted AS (\(values) RETURNING c.id AS aggregate_id, c.version AS aggregate_version,
                \(schema.quoted).contact_document(c) AS data),
            events AS (
            """)
        try outbox.appendEvents(from: "inserted", type: ContactEvents.contactCreated, producer: "contacts", into: &sql)
        let notified = try outbox.notification(into: &sql)
        sql.append(
            documents
                ? " RETURNING 1) SELECT data::text FROM inserted, \(notified)"
                : " RETURNING 1) SELECT count(*)::text FROM events, \(notified)"
        )
        let rows = try await connection.texts(sql.query, logger: logger)
        return documents ? (rows.count, rows.map(Document.init)) : (Int(rows.first ?? "0") ?? 0, [])
    }

    private func insertValues(_ contacts: [ValidContact], into sql: inout SQLBuilder) throws -> String {
        let rows = try ContactRow.bind(contacts.map { ContactRow($0, id: UUID()) }, into: &sql)
        let columns = (["id"] + ContactRow.fieldColumns).joined(separator: ", ")
        return """
            INSERT INTO \(self.contacts) AS c (\(columns))
            SELECT \(columns) FROM json_populate_recordset(NULL::\(self.contacts), \(rows))
            """
    }

    /// Applies a JSON merge patch. `expectedVersion` is required: without it two editors would
    /// silently overwrite each other.
    func update(_ id: UUID, patch: JSONValue, expectedVersion: Int64, allowDuplicate: Bool) async throws -> Document {
        guard case .object = patch else { throw Problem.badRequest("the body must be a JSON object (a merge patch)") }
        return try await client.transaction(logger: logger) { connection in
            let current = try await lockForWrite(id, on: connection)
            let contact = try current.decode(Contact.self)
            guard contact.version == expectedVersion else {
                throw Problem.versionMismatch(expected: expectedVersion, current: contact.version)
            }
            let fields = try fields(applying: patch, to: current)
            let definitions = try await CustomFieldStore.definitions(schema: schema, on: connection, logger: logger)
            var valid = try fields.validated(definitions: definitions, previous: contact.fields.consent, now: Date())
            try await linkAccount(&valid.fields, on: connection)
            if !allowDuplicate { try await rejectDuplicates(of: valid, excluding: [id], on: connection) }
            let updated = try await write(valid, to: id, on: connection)
            try await outbox.append(
                try updated.event(ContactEvents.contactUpdated, aggregateId: id, version: contact.version + 1),
                on: connection, logger: logger
            )
            return updated
        }
    }

    func delete(_ id: UUID, expectedVersion: Int64?) async throws {
        try await client.transaction(logger: logger) { connection in
            let current = try await lockForWrite(id, on: connection)
            let contact = try current.decode(Contact.self)
            if let expectedVersion, expectedVersion != contact.version {
                throw Problem.versionMismatch(expected: expectedVersion, current: contact.version)
            }
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(contacts) AS c SET deleted_at = date_trunc('milliseconds', now()), updated_at = date_trunc('milliseconds', now()),
                    version = version + 1 WHERE id = \(try sql.bind(id)) RETURNING \(document)
                """)
            let deleted = try await connection.document(sql.query, logger: logger)!
            try await outbox.append(
                try deleted.event(ContactEvents.contactDeleted, aggregateId: id, version: contact.version + 1),
                on: connection, logger: logger
            )
        }
    }

    // MARK: Parts of a write

    /// The live contact, locked; a merged one answers 409 naming its survivor (a write must say
    /// which contact it means, and the survivor's version differs).
    func lockForWrite(_ id: UUID, on connection: PostgresConnection) async throws -> Document {
        let (document, resolvedFrom) = try await resolve(id, on: connection, lock: true)
        if resolvedFrom != nil {
            let survivor = try document.decode(Contact.self).id
            throw Problem.conflict(
                "merged", "contact \(id.lowercased) was merged into \(survivor.lowercased); write to that one",
                extensions: ["survivor_id": .string(survivor.lowercased)]
            )
        }
        return document
    }

    func write(_ valid: ValidContact, to id: UUID, on connection: PostgresConnection) async throws -> Document {
        var sql = SQLBuilder()
        let row = try ContactRow.bind([ContactRow(valid)], into: &sql)
        let columns = ContactRow.fieldColumns.joined(separator: ", ")
        sql.append("""
            UPDATE \(contacts) AS c SET (\(columns)) = (SELECT \(columns) FROM json_populate_recordset(NULL::\(contacts), \(row))),
                version = version + 1,
                updated_at = date_trunc('milliseconds', now())
            WHERE id = \(try sql.bind(id)) RETURNING \(document)
            """)
        return try await connection.document(sql.query, logger: logger)!
    }

    /// A contact linked to an account carries the account's name as its company.
    func linkAccount(_ fields: inout ContactFields, on connection: PostgresConnection) async throws {
        guard let accountId = fields.accountId else { return }
        var sql = SQLBuilder()
        // FOR SHARE: an account being deleted meanwhile waits for this link, and then sees it.
        sql.append("SELECT name FROM \(schema.table("accounts")) WHERE id = \(try sql.bind(accountId)) AND deleted_at IS NULL FOR SHARE")
        guard let name = try await connection.texts(sql.query, logger: logger).first else {
            throw Problem.validation([FieldError("account_id", "no account \(accountId.lowercased) exists")])
        }
        fields.company = name
    }

    /// A contact sharing a normalized e-mail or phone with a live one is a duplicate. Advisory locks
    /// on the keys make two concurrent creates of the same person see each other.
    func rejectDuplicates(of valid: ValidContact, excluding: [UUID]?, on connection: PostgresConnection) async throws {
        let keys = valid.identityKeys
        guard !keys.isEmpty else { return }
        try await lockIdentities(keys, on: connection)
        let holders = try await holders(emailKeys: valid.emailKeys, phoneKeys: valid.phoneKeys, excluding: excluding ?? [], on: connection)
        guard let first = holders.first else { return }
        var sql = SQLBuilder()
        let emails = try sql.bind(valid.emailKeys)
        let phones = try sql.bind(valid.phoneKeys)
        sql.append("""
            SELECT jsonb_build_object(
                'id', c.id, 'name', concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')),
                'matched', to_jsonb(ARRAY(SELECT unnest(c.email_keys) INTERSECT SELECT unnest(\(emails)::text[]))
                    || ARRAY(SELECT unnest(c.phone_keys) INTERSECT SELECT unnest(\(phones)::text[]))))::text
            FROM \(contacts) c WHERE c.id = \(try sql.bind(first.id))
            """)
        guard let existing = try await connection.texts(sql.query, logger: logger).first else { return }
        let found = try APICoding.decoder.decode(JSONValue.self, from: Data(existing.utf8))
        guard case let .object(members) = found, case let .string(existingId)? = members["id"] else { return }
        let name: String = if case let .string(name)? = members["name"] { name } else { "" }
        throw Problem.conflict(
            "duplicate-contact",
            "contact \(existingId) (\(name)) has the same e-mail or phone; send allow_duplicate=true to create another",
            extensions: ["existing_contact": found]
        )
    }
}

extension ValidContact {
    /// Its normalized e-mails and phones as one set of keys (`e:…`, `p:…`).
    var identityKeys: [String] { emailKeys.map { "e:\($0)" } + phoneKeys.map { "p:\($0)" } }
}

extension ContactStore {
    /// Transaction locks on identity keys, taken in sorted order so two writers never wait on
    /// each other crosswise: two creates of the same person see each other.
    func lockIdentities(_ keys: some Collection<String>, on connection: PostgresConnection) async throws {
        var lock = SQLBuilder()
        lock.append("SELECT pg_advisory_xact_lock(hashtext('contacts.identity:' || k)) FROM unnest(\(try lock.bind(Array(Set(keys)).sorted()))::text[]) AS k")
        try await connection.query(lock.query, logger: logger)
    }

    /// A live contact holding one of the normalized keys.
    struct KeyHolder {
        var id: UUID
        var emailKeys: [String]
        var phoneKeys: [String]

        var identityKeys: [String] { emailKeys.map { "e:\($0)" } + phoneKeys.map { "p:\($0)" } }
    }

    /// The live contacts holding any of the keys, oldest first. Probed key by key through the GIN
    /// indexes: one overlap (`&&`) with a long array misleads the planner into reading the table.
    func holders(emailKeys: [String], phoneKeys: [String], excluding: [UUID], on connection: PostgresConnection) async throws -> [KeyHolder] {
        guard !emailKeys.isEmpty || !phoneKeys.isEmpty else { return [] }
        var sql = SQLBuilder()
        let excluded = try sql.bind(excluding)
        // Each branch returns its rows itself: joining the found ids back to the table made the
        // planner hash the whole table.
        sql.append("""
            SELECT c.id::text, c.email_keys, c.phone_keys, c.created_at FROM unnest(\(try sql.bind(emailKeys))::text[]) AS k
                JOIN \(contacts) c ON c.email_keys @> ARRAY[k] AND c.deleted_at IS NULL AND c.id <> ALL(\(excluded)::uuid[])
            UNION
            SELECT c.id::text, c.email_keys, c.phone_keys, c.created_at FROM unnest(\(try sql.bind(phoneKeys))::text[]) AS k
                JOIN \(contacts) c ON c.phone_keys @> ARRAY[k] AND c.deleted_at IS NULL AND c.id <> ALL(\(excluded)::uuid[])
            ORDER BY 4, 1
            """)
        var result: [KeyHolder] = []
        for try await (id, emails, phones, _) in try await connection.query(sql.query, logger: logger).decode((String, [String], [String], Date).self) {
            if let id = UUID(uuidString: id) { result.append(KeyHolder(id: id, emailKeys: emails, phoneKeys: phones)) }
        }
        return result
    }
}

extension UUID {
    /// The wire form: lower case.
    var lowercased: String { uuidString.lowercased() }
}
