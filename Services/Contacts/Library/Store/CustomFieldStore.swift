import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// The custom fields an admin defines for contacts and accounts.
struct CustomFieldStore: ServiceStore {
    let service: ServiceDependencies

    static func documentSQL(_ schema: SchemaName) -> String {
        """
        SELECT jsonb_build_object('id', d.id, 'entity', d.entity, 'name', d.name, 'label', d.label, 'type', d.type,
            'allowed_values', to_jsonb(d.allowed_values), 'required', d.required)::text
        FROM \(schema.table("custom_field_definitions")) d
        """
    }

    static func definitions(schema: SchemaName, on connection: PostgresConnection, logger: Logger) async throws -> [CustomFieldDefinition] {
        try await connection.texts(PostgresQuery(unsafeSQL: documentSQL(schema)), logger: logger).map {
            try Document(text: $0).decode(CustomFieldDefinition.self)
        }
    }

    /// A CTE that moves `custom_field_generation` on when the CTE `changed` has a row, in the
    /// statement that changes the definitions: creates validated against older ones are refused
    /// from then on (`CustomFieldCache`).
    static func bumpGeneration(_ schema: SchemaName, when changed: String) -> String {
        "bumped AS (UPDATE \(schema.table("custom_field_generation")) SET generation = generation + 1 WHERE EXISTS (SELECT FROM \(changed)))"
    }

    func list() async throws -> RawPage {
        try await client.unpaged(PostgresQuery(unsafeSQL: Self.documentSQL(schema) + " ORDER BY d.entity, d.name"), logger: logger)
    }

    func create(_ definition: CustomFieldDefinition) async throws -> String {
        var check = FieldChecker()
        if !TextShapes.isIdentifier(definition.name) {
            check.fail("name", "must be snake_case: a lower-case letter, then letters, digits or _ (at most 63)")
        }
        _ = check.text(definition.label, "label", required: true)
        if definition.type == .enum {
            if definition.allowedValues.isEmpty { check.fail("allowed_values", "an enum field needs at least one value") }
            if Set(definition.allowedValues).count != definition.allowedValues.count { check.fail("allowed_values", "lists a value twice") }
        } else if !definition.allowedValues.isEmpty {
            check.fail("allowed_values", "only an enum field has allowed values")
        }
        try check.check(ContactsError.invalid)
        var sql = SQLBuilder()
        sql.append("""
            WITH added AS (
                INSERT INTO \(schema.table("custom_field_definitions")) (id, entity, name, label, type, allowed_values, required)
                VALUES (\(try sql.bind(definition.id)), \(try sql.bind(definition.entity.rawValue)), \(try sql.bind(definition.name)),
                    \(try sql.bind(definition.label.trimmed)), \(try sql.bind(definition.type.rawValue)),
                    \(try sql.bind(definition.allowedValues))::text[], \(try sql.bind(definition.required)))
                ON CONFLICT (entity, name) DO NOTHING RETURNING id),
            \(Self.bumpGeneration(schema, when: "added"))
            SELECT id FROM added
            """)
        var read = SQLBuilder(Self.documentSQL(schema))
        read.append(" WHERE d.id = \(try read.bind(definition.id))")
        let (insert, readBack) = (sql.query, read.query)
        let created = try await client.transaction(logger: logger) { [logger] connection in
            try await connection.texts(insert, logger: logger).isEmpty ? nil : try await connection.texts(readBack, logger: logger).first
        }
        guard let created else {
            throw ContactsError.customFieldExists(entity: definition.entity, name: definition.name)
        }
        return created
    }

    /// Removes the definition and its values from every record of the entity, so that later
    /// writes of those records do not fail on a field that no longer exists. Each live record that
    /// held a value gets a new version and an `updated` event with its state, in the same
    /// transaction, so consumers' replicas lose the value too.
    func delete(_ id: UUID) async throws {
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                WITH removed AS (DELETE FROM \(schema.table("custom_field_definitions")) WHERE id = \(try sql.bind(id)) RETURNING entity || ' ' || name AS removed),
                \(Self.bumpGeneration(schema, when: "removed"))
                SELECT removed FROM removed
                """)
            guard let deleted = try await connection.texts(sql.query, logger: logger).first else {
                throw ContactsError.notFound("custom field \(id.lowercased)")
            }
            let parts = deleted.split(separator: " ", maxSplits: 1).map(String.init)
            let (table, document, event) = parts[0] == CustomFieldEntity.account.rawValue
                ? ("accounts", "account_document", ContactEvents.accountUpdated)
                : ("contacts", "contact_document", ContactEvents.contactUpdated)
            let outbox = Outbox(schema: schema)
            var strip = SQLBuilder()
            let name = try strip.bind(parts[1])
            strip.append("""
                WITH stripped AS (
                    UPDATE \(schema.table(table)) AS r SET custom_fields = r.custom_fields - \(name), version = r.version + 1,
                        updated_at = date_trunc('milliseconds', now())
                    WHERE r.custom_fields ? \(name)
                    RETURNING r.id AS aggregate_id, r.version AS aggregate_version, \(schema.quoted).\(document)(r) AS data,
                        r.deleted_at IS NOT NULL AS deleted),
                events AS (
                """)
            try outbox.appendEvents(
                from: "(SELECT aggregate_id, aggregate_version, data FROM stripped WHERE NOT deleted)", type: event,
                producer: "contacts", into: &strip
            )
            strip.append(" RETURNING 1) SELECT count(*)::text FROM events, \(try outbox.notification(into: &strip))")
            _ = try await connection.texts(strip.query, logger: logger)
        }
    }
}
