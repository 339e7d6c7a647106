import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Companies, each with its contacts.
struct AccountStore: ServiceStore {
    let service: ServiceDependencies

    var accounts: String { schema.table("accounts") }
    var document: String { "\(schema.quoted).account_document(a)::text" }

    func get(_ id: UUID) async throws -> Document {
        try await client.document(
            document, from: accounts, as: "a", id: id, live: true, orThrow: ContactsError.notFound("account \(id.lowercased)"), logger: logger
        )
    }

    /// By name, with keyset paging; `search` matches any part of the name.
    func list(_ filter: AccountFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("SELECT \(document), ARRAY[lower(a.name), a.id::text] FROM \(accounts) a WHERE a.deleted_at IS NULL")
        if let owner = filter.owner { sql.append(" AND a.owner = \(try sql.bind(owner))") }
        if let tag = filter.tag { sql.append(" AND a.tags @> ARRAY[\(try sql.bind(tag))]::text[]") }
        if let country = filter.country { sql.append(" AND a.country = \(try sql.bind(country))") }
        if let parent = filter.parentAccountId { sql.append(" AND a.parent_account_id = \(try sql.bind(parent))") }
        if let search = filter.search {
            sql.append(" AND lower(a.name) LIKE \(try sql.bind(containsPattern(search)))")
        }
        try sql.appendPage(filter.page, in: Keyset([("lower(a.name)", ""), ("a.id", "::uuid")]))
        return try await client.page(sql.query, limit: filter.page.limit, logger: logger)
    }

    func create(_ input: AccountFields) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            let definitions = try await CustomFieldStore.definitions(schema: schema, on: connection, logger: logger)
            var fields = try input.validated(definitions: definitions)
            fields.owner = try await staff.owner(fields.owner, on: connection)
            let id = UUID()
            try await checkParent(fields.parentAccountId, of: id, on: connection)
            return try await insert(fields, id: id, on: connection)
        }
    }

    /// A checked account with its `created` event, in the caller's transaction.
    @discardableResult
    func insert(_ fields: AccountFields, id: UUID, on connection: PostgresConnection) async throws -> Document {
        var sql = SQLBuilder()
        let idPlaceholder = try sql.bind(id)
        let columns = try Self.columns(fields, into: &sql)
        sql.append("""
            INSERT INTO \(accounts) AS a (id, \(columns.map(\.0).joined(separator: ", ")))
            VALUES (\(idPlaceholder), \(columns.map(\.1).joined(separator: ", "))) RETURNING \(document)
            """)
        return try await connection.document(
            sql.query, causing: ContactEvents.accountCreated, producer: "contacts", aggregateId: id, version: 1, outbox: outbox, logger: logger
        )
    }

    func update(_ id: UUID, patch: JSONValue, expectedVersion: Int64) async throws -> Document {
        guard case .object = patch else { throw ContactsError.malformed("the body must be a JSON object (a merge patch)") }
        return try await client.transaction(logger: logger) { connection in
            let current = try await lock(id, on: connection)
            let account = try current.decode(Account.self)
            guard account.version == expectedVersion else {
                throw ContactsError.versionMismatch(expected: expectedVersion, current: account.version)
            }
            let input = try Document.writableFields(AccountFields.self, of: current, patchedWith: patch, invalid: ContactsError.invalid)
            let definitions = try await CustomFieldStore.definitions(schema: schema, on: connection, logger: logger)
            var fields = try input.validated(definitions: definitions)
            fields.owner = try await staff.owner(patched: fields.owner, stored: account.fields.owner, on: connection)
            try await checkParent(fields.parentAccountId, of: id, on: connection)
            var sql = SQLBuilder()
            let columns = try Self.columns(fields, into: &sql)
            sql.append("""
                UPDATE \(accounts) AS a SET \(columns.map { "\($0.0) = \($0.1)" }.joined(separator: ", ")),
                    version = version + 1, updated_at = date_trunc('milliseconds', now())
                WHERE id = \(try sql.bind(id)) RETURNING \(document)
                """)
            let updated = try await connection.document(returnedBy: sql.query, logger: logger)
            if fields.name != account.fields.name {
                // The contacts' company follows the account's name: each is a contact update, with its event.
                var rename = SQLBuilder()
                rename.append("""
                    UPDATE \(schema.table("contacts")) AS c SET company = \(try rename.bind(fields.name)), version = version + 1,
                        updated_at = date_trunc('milliseconds', now())
                    WHERE account_id = \(try rename.bind(id)) AND deleted_at IS NULL
                    RETURNING \(schema.quoted).contact_document(c)::text
                    """)
                let events = try await connection.texts(rename.query, logger: logger).map { text in
                    let document = Document(text: text)
                    let identity = try document.identity
                    return try document.event(ContactEvents.contactUpdated, aggregateId: identity.id, version: identity.version ?? 1)
                }
                try await outbox.append(events, on: connection, logger: logger)
            }
            try await outbox.append(
                try updated.event(ContactEvents.accountUpdated, aggregateId: id, version: account.version + 1), on: connection, logger: logger
            )
            return updated
        }
    }

    /// An account with live contacts or child accounts is not deleted: they would point nowhere.
    func delete(_ id: UUID, expectedVersion: Int64?) async throws {
        try await client.transaction(logger: logger) { connection in
            let account = try await lock(id, on: connection).decode(Account.self)
            if let expectedVersion, expectedVersion != account.version {
                throw ContactsError.versionMismatch(expected: expectedVersion, current: account.version)
            }
            var count = SQLBuilder()
            let idPlaceholder = try count.bind(id)
            count.append("""
                SELECT ((SELECT count(*) FROM \(schema.table("contacts")) WHERE account_id = \(idPlaceholder) AND deleted_at IS NULL)
                    || ' ' || (SELECT count(*) FROM \(accounts) WHERE parent_account_id = \(idPlaceholder) AND deleted_at IS NULL))
                """)
            let counts = try await connection.texts(count.query, logger: logger)[0].split(separator: " ")
            if counts[0] != "0" || counts[1] != "0" {
                throw ContactsError.accountInUse(id, contacts: counts[0], children: counts[1])
            }
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(accounts) AS a SET deleted_at = date_trunc('milliseconds', now()), updated_at = date_trunc('milliseconds', now()),
                    version = version + 1 WHERE id = \(try sql.bind(id)) RETURNING \(document)
                """)
            try await connection.document(
                sql.query, causing: ContactEvents.accountDeleted, producer: "contacts", aggregateId: id, version: account.version + 1, outbox: outbox, logger: logger
            )
        }
    }

    private func lock(_ id: UUID, on connection: PostgresConnection) async throws -> Document {
        var sql = SQLBuilder()
        sql.append("SELECT \(document) FROM \(accounts) a WHERE a.id = \(try sql.bind(id)) AND a.deleted_at IS NULL FOR UPDATE")
        guard let document = try await connection.document(sql.query, logger: logger) else { throw ContactsError.notFound("account \(id.lowercased)") }
        return document
    }

    /// The parent must exist and must not be the account itself or one of its descendants.
    /// Re-parentings take one lock in turn, so two of them cannot each pass the check and
    /// together close a cycle.
    private func checkParent(_ parent: UUID?, of id: UUID, on connection: PostgresConnection) async throws {
        guard let parent else { return }
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext('contacts.account-tree'))", logger: logger)
        var sql = SQLBuilder()
        let parentPlaceholder = try sql.bind(parent)
        sql.append("""
            WITH RECURSIVE ancestors AS (
                SELECT id, parent_account_id FROM \(accounts) WHERE id = \(parentPlaceholder) AND deleted_at IS NULL
                UNION SELECT a.id, a.parent_account_id FROM \(accounts) a JOIN ancestors ON a.id = ancestors.parent_account_id)
            SELECT id::text FROM ancestors
            """)
        let chain = try await connection.texts(sql.query, logger: logger)
        if chain.isEmpty {
            throw ContactsError.invalid("parent_account_id", "no account \(parent.lowercased) exists")
        }
        if chain.contains(id.lowercased) {
            throw ContactsError.invalid("parent_account_id", "would make the account its own ancestor")
        }
    }

    private static func columns(_ fields: AccountFields, into sql: inout SQLBuilder) throws -> [(String, String)] {
        [
            ("name", try sql.bind(fields.name ?? "")),
            ("legal_name", try sql.bind(fields.legalName)),
            ("tax_id", try sql.bind(fields.taxId)),
            ("industry", try sql.bind(fields.industry)),
            ("size_band", try sql.bind(fields.sizeBand?.rawValue)),
            ("website", try sql.bind(fields.website)),
            ("address", try sql.bind(jsonText(fields.address ?? PostalAddress())) + "::jsonb"),
            ("region", try sql.bind(fields.address?.region)),
            ("country", try sql.bind(fields.address?.country)),
            ("parent_account_id", try sql.bind(fields.parentAccountId)),
            ("owner", try sql.bind(fields.owner)),
            ("tags", try sql.bind(fields.tags ?? []) + "::text[]"),
            ("custom_fields", try sql.bind(jsonText(fields.customFields ?? [:])) + "::jsonb"),
        ]
    }
}
