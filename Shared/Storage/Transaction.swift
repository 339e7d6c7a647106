import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction` that rethrows the closure's own error as it was thrown (a rollback that
    /// itself fails is still reported as postgres-nio's `PostgresTransactionError`), so typed
    /// errors such as an HTTP problem reach their handler unchanged.
    public func transaction<Result>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, isolation: isolation, body)
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError, error.rollbackError == nil { throw closureError }
            throw error
        }
    }
}
