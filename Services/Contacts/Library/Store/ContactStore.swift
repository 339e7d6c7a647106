import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Contacts in PostgreSQL: every write commits with its event in the outbox.
struct ContactStore: ServiceStore {
    let service: ServiceDependencies
    let customFields = CustomFieldCache()

    var contacts: String { schema.table("contacts") }
    var document: String { "\(schema.quoted).contact_document(c)::text" }

    // MARK: Reads

    /// The contact, or the survivor it was merged into (`resolvedFrom` then names the asked id).
    func get(_ id: UUID) async throws -> (document: Document, resolvedFrom: UUID?) {
        try await client.read(logger: logger) { connection in
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
        throw ContactsError.notFound("contact \(id.lowercased)")
    }

    func list(_ filter: ContactFilter) async throws -> RawPage {
        guard filter.search != nil else { return try await client.page(try listQuery(filter, walking: nil), limit: filter.page.limit, logger: logger) }
        // A search first walks a bounded stretch of the list's order and filters it: a term many
        // contacts match fills the page there at once, while the trigram index would have to
        // gather every match first. A page not filled there is a rarer term's, and comes from the
        // index, where a rare term is cheap; the planner, whose guess at how many rows a pattern
        // matches is often far off, is kept from walking the order again.
        // The walk starts with a fifth of the stretch, a random sample of the contacts (the
        // order is by id unless asked otherwise). A term that fills the page there is done. The
        // rest of the stretch is walked only when the sample's matches, scaled up, come near a
        // page (70% of one): a rarer term goes to the index at once instead of paying for the
        // whole walk. Either way the page is exact; the sample only chooses the cheaper path.
        let probe = try await client.page(try listQuery(filter, walking: Self.searchWalk / 5), limit: filter.page.limit, logger: logger)
        if probe.nextCursor != nil { return probe }
        if Double(probe.items.count * 5) >= 0.7 * Double(filter.page.limit + 1) {
            let walked = try await client.page(try listQuery(filter, walking: Self.searchWalk), limit: filter.page.limit, logger: logger)
            if walked.nextCursor != nil { return walked }
        }
        return try await client.page(try listQuery(filter, walking: nil), limit: filter.page.limit, logger: logger)
    }

    /// Rows of the list's order a search filters before it turns to the trigram index.
    static let searchWalk = 5_000

    /// The page query. With `walking`, only that many rows of the order (after the cursor) are
    /// searched, so the answer is exact only when it fills the page. A search without `walking`
    /// gathers its matches apart from the order (`OFFSET 0` keeps the planner from merging the
    /// two), so that it reads them from the trigram index and sorts them, rather than walk the
    /// order again on a guess of how many rows the term matches.
    private func listQuery(_ filter: ContactFilter, walking: Int?) throws -> PostgresQuery {
        var sql = SQLBuilder()
        let keys = filter.sort.keys.joined(separator: ", ")
        func appendPosition() throws {
            guard let cursor = filter.page.cursor else { return }
            let placeholders = try zip(cursor.values, filter.sort.cursorTypes).map { value, type in
                try sql.bind(value) + "::\(type)"
            }
            sql.append(" AND (\(keys)) > (\(placeholders.joined(separator: ", ")))")
        }
        if let search = filter.search, let walking {
            // The walk reads only the id and the search text, which `contacts_id_search` holds
            // for the id order; the rows of the few matches are read after.
            sql.append("""
                SELECT \(document), ARRAY[\(filter.sort.cursorValues)] FROM \(contacts) c
                WHERE c.id IN (SELECT w.id FROM (SELECT c.id, c.search FROM \(contacts) c WHERE c.deleted_at IS NULL
                """)
            try filter.appendConditions(to: &sql, search: false)
            try appendPosition()
            sql.append(" ORDER BY \(keys) LIMIT \(walking)) w WHERE w.search LIKE \(try sql.bind(containsPattern(search))))")
        } else if filter.search != nil {
            sql.append("""
                SELECT \(schema.quoted).contact_document(c::\(contacts))::text, ARRAY[\(filter.sort.cursorValues)]
                FROM (SELECT c.* FROM \(contacts) c WHERE c.deleted_at IS NULL
                """)
            try filter.appendConditions(to: &sql, search: true)
            try appendPosition()
            sql.append(" OFFSET 0) c")
        } else {
            sql.append("SELECT \(document), ARRAY[\(filter.sort.cursorValues)] FROM \(contacts) c WHERE c.deleted_at IS NULL")
            try filter.appendConditions(to: &sql, search: false)
            try appendPosition()
        }
        sql.append(" ORDER BY \(keys) LIMIT \(filter.page.limit + 1)")
        return sql.query
    }

    // MARK: Writes

    func create(_ input: ContactFields, allowDuplicate: Bool) async throws -> Document {
        var known = try await customFields.snapshot(schema: schema, client: client, logger: logger)
        for _ in 0..<3 {
            let checked = Result { [known] () throws(ContactsError) in try input.validated(definitions: known.definitions, previous: nil, now: Date()) }
            if case let .failure(error) = checked, case let .invalid(errors) = error, errors.contains(where: { $0.field.hasPrefix("custom_fields") }) {
                // The definitions held here may be older than the request: judge by the current ones.
                let current = try await customFields.reload(schema: schema, client: client, logger: logger)
                guard current.generation != known.generation else { throw error }
                known = current
                continue
            }
            var valid = try checked.get()
            if valid.fields.owner != nil {
                valid.fields.owner = try await client.withConnection { try await staff.owner(valid.fields.owner, on: $0) }
            }
            if let created = try await createInOneStatement(valid, allowDuplicate: allowDuplicate, generation: known.generation) {
                return created
            }
            known = try await customFields.reload(schema: schema, client: client, logger: logger)
        }
        throw ContactsError.customFieldsChanging
    }

    /// The create as one statement in its transaction: the function
    /// `create_contact` (SQL/functions/05_create_contact.sql) links the account, checks for duplicates under
    /// the identity locks, and inserts with the event. A failed check leaves the insert empty and
    /// the answer says which. Nil: the definitions it was validated against are no longer current.
    private func createInOneStatement(_ valid: ValidContact, allowDuplicate: Bool, generation: Int64) async throws -> Document? {
        var sql = SQLBuilder()
        let row = try ContactRow.bind([ContactRow(valid, id: UUID())], into: &sql)
        sql.append("""
            SELECT outcome, document FROM \(schema.quoted).create_contact(\(row), \(try sql.bind(valid.fields.accountId))::uuid,
                \(try sql.bind(!allowDuplicate && !valid.identityKeys.isEmpty)), \(try sql.bind(valid.emailKeys))::text[],
                \(try sql.bind(valid.phoneKeys))::text[], \(try sql.bind(generation)), \(try sql.bind(ContactEvents.contactCreated)),
                'contacts', \(try sql.bind(outbox.notificationChannel)))
            """)
        let statement = sql.query
        let answer = try await client.transaction(logger: logger) { [logger] connection -> (String, String?)? in
            var answer: (String, String?)?
            for try await row in try await connection.query(statement, logger: logger).decode((String, String?).self) { answer = row }
            return answer
        }
        switch answer {
        case ("created", let document?)?: return Document(text: document)
        case ("stale", _)?: return nil
        case ("no-account", _)?: throw Self.noAccount(valid.fields.accountId)
        case ("duplicate", let existing?)?: throw try Self.duplicate(existing)
        default: throw UnexpectedAnswer(statement: "create", answer: String(describing: answer))
        }
    }

    /// The writable fields of a stored contact with a JSON merge patch applied.
    func fields(applying patch: JSONValue, to current: Document) throws -> ContactFields {
        try Document.writableFields(ContactFields.self, of: current, patchedWith: patch, invalid: ContactsError.invalid)
    }

    /// Inserts new contacts and their `created` events in one statement, the events built in the
    /// database from the stored rows, so the documents are not parsed and encoded again here.
    /// Returns the documents for an API answer, or with `documents: false` (an import's batch)
    /// only how many were written.
    /// `ids` are the new contacts' ids when another service chose them (an ERP's prospect).
    func insertWithEvents(_ contacts: [ValidContact], ids: [UUID]? = nil, documents: Bool, on connection: PostgresConnection)
        async throws -> (count: Int, documents: [Document])
    {
        guard !contacts.isEmpty else { return (0, []) }
        var sql = SQLBuilder()
        let ids = ids ?? contacts.map { _ in UUID() }
        let candidates = try ContactRow.bind(zip(contacts, ids).map { ContactRow($0, id: $1) }, into: &sql)
        let columns = (["id"] + ContactRow.fieldColumns).joined(separator: ", ")
        sql.append("""
            WITH inserted AS (
                INSERT INTO \(self.contacts) AS c (\(columns))
                SELECT \(columns) FROM json_populate_recordset(NULL::\(self.contacts), \(candidates))
                RETURNING c.id AS aggregate_id, c.version AS aggregate_version, \(schema.quoted).contact_document(c) AS data),
            events AS (
            """)
        try outbox.appendEvents(from: "inserted", type: ContactEvents.contactCreated, producer: "contacts", into: &sql)
        sql.append(" RETURNING 1)")
        let notified = try outbox.notification(into: &sql)
        sql.append(
            documents
                ? " SELECT data::text FROM inserted, \(notified)"
                : " SELECT count(*)::text FROM events, \(notified)"
        )
        let rows = try await connection.texts(sql.query, logger: logger)
        return documents ? (rows.count, rows.map(Document.init)) : (Int(rows.first ?? "0") ?? 0, [])
    }

    /// Applies a JSON merge patch. `expectedVersion` is required: without it two editors would
    /// silently overwrite each other.
    func update(_ id: UUID, patch: JSONValue, expectedVersion: Int64, allowDuplicate: Bool) async throws -> Document {
        guard case .object = patch else { throw ContactsError.malformed("the body must be a JSON object (a merge patch)") }
        return try await client.transaction(logger: logger) { connection in
            let current = try await lockForWrite(id, on: connection)
            let contact = try current.decode(Contact.self)
            guard contact.version == expectedVersion else {
                throw ContactsError.versionMismatch(expected: expectedVersion, current: contact.version)
            }
            let fields = try fields(applying: patch, to: current)
            let definitions = try await CustomFieldStore.definitions(schema: schema, on: connection, logger: logger)
            var valid = try fields.validated(definitions: definitions, previous: contact.fields.consent, now: Date())
            valid.fields.owner = try await staff.owner(patched: valid.fields.owner, stored: contact.fields.owner, on: connection)
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
                throw ContactsError.versionMismatch(expected: expectedVersion, current: contact.version)
            }
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(contacts) AS c SET deleted_at = date_trunc('milliseconds', now()), updated_at = date_trunc('milliseconds', now()),
                    version = version + 1 WHERE id = \(try sql.bind(id)) RETURNING \(document)
                """)
            try await connection.document(
                sql.query, causing: ContactEvents.contactDeleted, producer: "contacts", aggregateId: id, version: contact.version + 1, outbox: outbox, logger: logger
            )
        }
    }

    // MARK: Parts of a write

    /// The live contact, locked; a merged one is `ContactsError.merged`, naming its survivor (a write must say
    /// which contact it means, and the survivor's version differs).
    func lockForWrite(_ id: UUID, on connection: PostgresConnection) async throws -> Document {
        let (document, resolvedFrom) = try await resolve(id, on: connection, lock: true)
        if resolvedFrom != nil {
            let survivor = try document.decode(Contact.self).id
            throw ContactsError.merged(id, into: survivor)
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
        return try await connection.document(returnedBy: sql.query, logger: logger)
    }

    /// A contact linked to an account carries the account's name as its company.
    func linkAccount(_ fields: inout ContactFields, on connection: PostgresConnection) async throws {
        guard let accountId = fields.accountId else { return }
        var sql = SQLBuilder()
        // FOR SHARE: an account being deleted meanwhile waits for this link, and then sees it.
        sql.append("SELECT name FROM \(schema.table("accounts")) WHERE id = \(try sql.bind(accountId)) AND deleted_at IS NULL FOR SHARE")
        guard let name = try await connection.texts(sql.query, logger: logger).first else {
            throw Self.noAccount(accountId)
        }
        fields.company = name
    }

    /// A contact sharing a normalized e-mail or phone with a live one is a duplicate. The identity
    /// keys' advisory locks make two concurrent writes of the same person see each other.
    func rejectDuplicates(of valid: ValidContact, excluding: [UUID]?, on connection: PostgresConnection) async throws {
        guard !valid.identityKeys.isEmpty else { return }
        var sql = SQLBuilder("WITH ")
        let claim = try claimIdentities(emailKeys: valid.emailKeys, phoneKeys: valid.phoneKeys, excluding: excluding ?? [], into: &sql)
        sql.append("duplicate AS (SELECT h.* FROM \(claim) h ORDER BY h.created_at, h.id LIMIT 1) ")
        sql.append("SELECT \(try duplicateDocument(of: "d", valid, into: &sql)) FROM duplicate d")
        if let existing = try await connection.texts(sql.query, logger: logger).first {
            throw try Self.duplicate(existing)
        }
    }

    /// A holder row of `claim_identities` as `ContactsError.duplicate` shows it: id, name, and which of
    /// `valid`'s keys it holds.
    private func duplicateDocument(of holder: String, _ valid: ValidContact, into sql: inout SQLBuilder) throws -> String {
        let emails = try sql.bind(valid.emailKeys)
        let phones = try sql.bind(valid.phoneKeys)
        return """
            jsonb_build_object('id', \(holder).id, 'name', \(holder).name,
                'matched', to_jsonb(ARRAY(SELECT unnest(\(holder).email_keys) INTERSECT SELECT unnest(\(emails)::text[]))
                    || ARRAY(SELECT unnest(\(holder).phone_keys) INTERSECT SELECT unnest(\(phones)::text[]))))::text
            """
    }

    private static func duplicate(_ existing: String) throws -> ContactsError {
        let found = try APICoding.decoder.decode(JSONValue.self, from: Data(existing.utf8))
        guard case let .object(members) = found, case let .string(existingId)? = members["id"] else {
            throw UnexpectedAnswer(statement: "duplicate check", answer: existing)
        }
        let name: String = if case let .string(name)? = members["name"] { name } else { "" }
        return .duplicate(existing: found, id: existingId, name: name)
    }

    private static func noAccount(_ id: UUID?) -> ContactsError {
        .invalid("account_id", "no account \(id?.lowercased ?? "") exists")
    }

    /// The FROM item of `claim_identities`: it locks the keys, then reads their live holders on a
    /// snapshot taken after the locks (SQL/migrations/104).
    private func claimIdentities(emailKeys: [String], phoneKeys: [String], excluding: [UUID], into sql: inout SQLBuilder) throws -> String {
        "\(schema.quoted).claim_identities(\(try sql.bind(emailKeys))::text[], \(try sql.bind(phoneKeys))::text[], \(try sql.bind(excluding))::uuid[])"
    }

    /// A live contact holding one of the normalized keys.
    struct KeyHolder: HoldsIdentityKeys {
        var id: UUID
        var emailKeys: [String]
        var phoneKeys: [String]
    }

    /// Locks the keys (until the transaction ends) and returns the live contacts holding any of
    /// them, oldest first.
    func claimHolders(emailKeys: [String], phoneKeys: [String], on connection: PostgresConnection) async throws -> [KeyHolder] {
        guard !emailKeys.isEmpty || !phoneKeys.isEmpty else { return [] }
        var sql = SQLBuilder()
        let claim = try claimIdentities(emailKeys: emailKeys, phoneKeys: phoneKeys, excluding: [], into: &sql)
        sql.append("SELECT h.id::text, h.email_keys, h.phone_keys FROM \(claim) h ORDER BY h.created_at, h.id")
        var result: [KeyHolder] = []
        for try await (id, emails, phones) in try await connection.query(sql.query, logger: logger).decode((String, [String], [String]).self) {
            if let id = UUID(uuidString: id) { result.append(KeyHolder(id: id, emailKeys: emails, phoneKeys: phones)) }
        }
        return result
    }
}

/// A statement answered in a shape its code does not know: a bug, logged as a 500.
struct UnexpectedAnswer: Error, CustomStringConvertible {
    var statement: String
    var answer: String

    var description: String { "the \(statement) statement answered \(answer)" }
}

/// A contact to write, or one that holds keys already: its normalized e-mails and phones.
protocol HoldsIdentityKeys {
    var emailKeys: [String] { get }
    var phoneKeys: [String] { get }
}

extension HoldsIdentityKeys {
    /// The normalized e-mails and phones as one set of keys (`e:…`, `p:…`), as `claim_identities` locks them.
    var identityKeys: [String] { emailKeys.map { "e:\($0)" } + phoneKeys.map { "p:\($0)" } }
}

extension ValidContact: HoldsIdentityKeys {}
