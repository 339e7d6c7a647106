import Logging
import PostgresNIO
import ServiceKit
import Storage
import Synchronization

/// The custom-field definitions as last read, with the generation they were read at. A create
/// validates against them without reading them again, and its statement inserts only while that
/// generation is still current (`custom_field_generation`), so a definition added or removed on
/// any replica is never missed: the create is refused as stale, and `reload` reads afresh.
final class CustomFieldCache: Sendable {
    struct Snapshot: Sendable {
        var generation: Int64
        var definitions: [CustomFieldDefinition]
    }

    private let current = Mutex<Snapshot?>(nil)

    func snapshot(schema: SchemaName, client: PostgresClient, logger: Logger) async throws -> Snapshot {
        if let cached = current.withLock({ $0 }) { return cached }
        return try await reload(schema: schema, client: client, logger: logger)
    }

    /// Reads the generation and the definitions in one statement, hence from one snapshot.
    @discardableResult
    func reload(schema: SchemaName, client: PostgresClient, logger: Logger) async throws -> Snapshot {
        let query = PostgresQuery(unsafeSQL: """
            SELECT g.generation, coalesce((SELECT json_agg(d.document::json) FROM (\(CustomFieldStore.documentSQL(schema))) AS d(document)), '[]')::text
            FROM \(schema.table("custom_field_generation")) g
            """)
        let snapshot = try await client.read(logger: logger) { connection -> Snapshot? in
            for try await (generation, definitions) in try await connection.query(query, logger: logger).decode((Int64, String).self) {
                return Snapshot(generation: generation, definitions: try Document(text: definitions).decode([CustomFieldDefinition].self))
            }
            return nil
        }
        guard let snapshot else { throw UnexpectedAnswer(statement: "custom field generation", answer: "no row") }
        current.withLock { $0 = snapshot }
        return snapshot
    }
}
