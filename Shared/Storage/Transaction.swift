import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction` that rethrows the closure's own error as it was thrown (a rollback that
    /// itself fails is still reported as postgres-nio's `PostgresTransactionError`), so typed
    /// errors such as an HTTP problem reach their handler unchanged. A transaction PostgreSQL
    /// chose as a deadlock victim, or failed to serialize, runs again (at most three times):
    /// its effects were rolled back, and the other transaction has gone on.
    public func transaction<Result>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        var attempt = 1
        while true {
            do {
                return try await withTransaction(logger: logger, isolation: isolation, body)
            } catch let error as PostgresTransactionError {
                let cause = error.rollbackError == nil ? (error.closureError ?? error) : error
                if attempt < 3, let failure = cause as? PSQLError, Self.isRetryable(failure) {
                    attempt += 1
                    logger.info("transaction retried", metadata: ["sqlstate": "\(failure.serverInfo?[.sqlState] ?? "")"])
                    continue
                }
                throw cause
            }
        }
    }

    /// 40P01 deadlock detected, 40001 serialization failure.
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }
}
