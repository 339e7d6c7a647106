import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

extension PostgresConnection {
    /// Throws `taken(id)` when another row of `table` than `except` has `value` in `column`, case
    /// aside. The check runs under the advisory lock `lock` until the transaction ends, so two
    /// writes of one value cannot both pass it.
    func requireUnique(
        _ value: String, in table: String, column: String, except: UUID?, lock: String, logger: Logger,
        taken: (UUID) -> SalesError
    ) async throws {
        var locking = SQLBuilder()
        locking.append("SELECT pg_advisory_xact_lock(hashtext(\(try locking.bind(lock))))")
        try await query(locking.query, logger: logger)
        var sql = SQLBuilder()
        sql.append("SELECT id FROM \(table) WHERE lower(\(column)) = lower(\(try sql.bind(value)))")
        for try await other in try await query(sql.query, logger: logger).decode(UUID.self) where other != except {
            throw taken(other)
        }
    }
}
