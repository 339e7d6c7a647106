import Contracts
import Foundation
import HTTPTypes
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// What every change of a user or a team does alike: lock the row at its version, count the
/// version up with the change's `identity.*` event, and keep a name unique whatever its case.
struct IdentityRows: ServiceStore {
    let service: ServiceDependencies
    /// `user` or `team`: the table is its plural, the document its `_document` function.
    let kind: String

    var table: String { schema.table(kind + "s") }
    var document: String { "\(schema.quoted).\(kind)_document(r)::text" }

    /// The row's version, the row locked until the transaction ends; a missing row is a 404.
    func lock(_ id: UUID, on connection: PostgresConnection) async throws -> Int64 {
        var sql = SQLBuilder()
        sql.append("SELECT version FROM \(table) WHERE id = \(try sql.bind(id)) FOR UPDATE")
        for try await (version,) in try await connection.query(sql.query, logger: logger).decode((Int64,).self) { return version }
        throw Problem.notFound("\(kind) \(id.lowercased)")
    }

    /// The next version, with `event` in the outbox in the same commit.
    @discardableResult
    func bump(_ id: UUID, from version: Int64, event: String, on connection: PostgresConnection) async throws -> Document {
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(table) AS r SET version = version + 1, updated_at = date_trunc('milliseconds', now())
            WHERE r.id = \(try sql.bind(id)) RETURNING \(document)
            """)
        return try await connection.document(
            sql.query, causing: event, producer: IdentityEvents.producer, aggregateId: id, version: version + 1, outbox: outbox, logger: logger
        )
    }

    /// The document of the row as this transaction sees it.
    func read(_ id: UUID) throws -> PostgresQuery {
        var sql = SQLBuilder()
        sql.append("SELECT \(document) FROM \(table) r WHERE r.id = \(try sql.bind(id))")
        return sql.query
    }

    /// A conflict (`slug`, `detail`) when another row has `value` in `column`, whatever its case.
    func requireFree(_ column: String, _ value: String, except id: UUID?, slug: String, detail: String, on connection: PostgresConnection) async throws {
        // Two writes of one name at once: the second waits here for the first to commit, and then
        // sees its row, instead of passing the check and failing on the unique index.
        var lock = SQLBuilder()
        lock.append("SELECT pg_advisory_xact_lock(hashtextextended(\(try lock.bind("\(table).\(column)")) || lower(\(try lock.bind(value))), 0))")
        try await connection.query(lock.query, logger: logger)
        var sql = SQLBuilder()
        sql.append("SELECT id FROM \(table) WHERE lower(\(column)) = lower(\(try sql.bind(value)))")
        for try await (other,) in try await connection.query(sql.query, logger: logger).decode((UUID,).self) where other != id {
            throw Problem.conflict(slug, detail)
        }
    }
}
