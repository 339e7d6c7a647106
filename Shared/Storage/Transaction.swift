import Logging
import PostgresNIO
import Synchronization

// Why every write is an explicit transaction: a statement sent on its own commits at the protocol's
// Sync, after PostgreSQL has already sent its rows and CommandComplete, and postgres-nio hands the
// rows to the caller on CommandComplete. If the backend then dies (a fast shutdown terminates it),
// the commit never happens, yet the caller has its answer. An explicit COMMIT answers only once
// the commit is done. Services' pools therefore open sessions read-only by default
// (`DatabaseConfiguration.serviceClientConfiguration`), so a write outside `transaction` fails
// instead of risking a success that did not commit.

extension PostgresClient {
    /// Runs `body` in a read-write transaction on a pooled connection and commits it. The body's
    /// own errors arrive as thrown (a `Problem` stays one). A connection lost before the commit is
    /// `DatabaseFault.unavailable` (nothing was written); lost during the commit,
    /// `DatabaseFault.commitOutcomeUnknown`. A deadlock or serialization failure runs the body
    /// again, at most three times. Inside a `SharedTransaction` the body joins that one instead.
    public func transaction<Result: Sendable>(
        logger: Logger, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        if let shared = SharedTransaction.current, shared.client === self { return try await shared.run(body) }
        var attempt = 1
        while true {
            do {
                return try await withConnection { connection in try await connection.transaction(logger: logger, body) }
            } catch where attempt < 3 && Self.isRetryable(error) {
                attempt += 1
                logger.info("transaction retried", metadata: ["reason": "\(DatabaseFault.reason(error))"])
            } catch {
                throw DatabaseFault.normalized(error)
            }
        }
    }

    /// Runs reads on a pooled connection (or on the task's `SharedTransaction`, so they see its
    /// writes), and stops waiting when that connection closes under them.
    public func read<Result: Sendable>(
        logger: Logger, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        if let shared = SharedTransaction.current, shared.client === self { return try await shared.connection.guarded(body) }
        do {
            return try await withConnection { connection in try await connection.guarded(body) }
        } catch {
            throw DatabaseFault.normalized(error)
        }
    }

    /// 40P01 deadlock detected, 40001 serialization failure: the transaction was rolled back and
    /// the other one has gone on.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let failure = error as? PSQLError, failure.code == .server, let state = failure.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }
}

extension DatabaseFault {
    /// A lost connection as `unavailable`; anything else as it was thrown.
    public static func normalized(_ error: any Error) -> any Error {
        if error is DatabaseFault { return error }
        if kind(of: error) == .connectivity, !(error is CancellationError) { return DatabaseFault.unavailable(reason(error)) }
        return error
    }
}

extension PostgresConnection {
    /// `body` on this connection, no longer awaited once the connection closes (`ConnectionLost`).
    public func guarded<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await abandonable(abandonWhen: closing, closedError: { ConnectionLost() }) { try await body(self) }
    }

    /// BEGIN READ WRITE, `body`, COMMIT on this connection (see `PostgresClient.transaction`).
    public func transaction<Result: Sendable>(
        logger: Logger, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await begin(logger: logger)
        let result: Result
        do {
            result = try await guarded(body)
        } catch {
            await endFailed(after: error, logger: logger)
            throw error
        }
        try await commit(logger: logger)
        return result
    }

    func begin(logger: Logger) async throws {
        do {
            _ = try await guarded { try await $0.query("BEGIN READ WRITE", logger: logger) }
        } catch {
            await endFailed(after: error, logger: logger)
            throw error
        }
    }

    /// COMMIT; a failure that leaves the outcome open is `DatabaseFault.commitOutcomeUnknown`.
    /// An ERROR from a live server (a deferred constraint, a serialization failure) is a commit
    /// that did not happen, and is thrown as it came; so is a COMMIT that PostgreSQL answers with
    /// ROLLBACK, as it does in a transaction a failed statement aborted (a body that caught that
    /// statement's error would otherwise be answered as committed).
    public func commit(logger: Logger) async throws {
        let tag: String
        do {
            tag = try await guarded { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "COMMIT"), logger: logger).get().metadata.command
            }
        } catch let error as PSQLError where error.code == .server && DatabaseFault.kind(of: error) != .connectivity {
            throw error
        } catch {
            try? await close()
            throw DatabaseFault.commitOutcomeUnknown(DatabaseFault.reason(error))
        }
        guard tag == "COMMIT" else { throw TransactionRolledBack() }
    }

    /// After a failed statement: ROLLBACK when the connection is idle and alive; when the work was
    /// abandoned (it may still be running) or the connection is gone, close it, which rolls back
    /// on the server and keeps the pool from handing out a connection in an unknown state.
    public func endFailed(after error: any Error, logger: Logger) async {
        let abandoned = error is CancellationError || error is DeadlineExceeded || error is ConnectionLost
        if !abandoned && !isClosed {
            let rolledBack = (try? await abandonable(limit: .seconds(5), abandonWhen: closing) {
                try await self.query("ROLLBACK", logger: logger)
            }) != nil
            if rolledBack { return }
        }
        try? await close()
    }
}

/// One transaction for the rest of a task: every `transaction` and `read` of `client` in it runs
/// on `connection`, inside a single BEGIN (sent at the first write), and whoever opened it commits
/// or rolls back. An idempotent HTTP request uses it to store its answer in the same commit as
/// its effects. It serves one task at a time, as a handler's awaits come one after another: two
/// child tasks writing through it at once could send a statement before the BEGIN. And a joined
/// transaction has no savepoint of its own, so a handler must not catch a failed inner
/// `transaction` and go on (its COMMIT would then answer ROLLBACK, `TransactionRolledBack`).
public final class SharedTransaction: Sendable {
    @TaskLocal public static var current: SharedTransaction?

    public let client: PostgresClient
    public let connection: PostgresConnection
    private let logger: Logger
    private let begun = Mutex(false)

    public init(client: PostgresClient, connection: PostgresConnection, logger: Logger) {
        self.client = client
        self.connection = connection
        self.logger = logger
    }

    /// Whether a write has begun the transaction.
    public var hasBegun: Bool { begun.withLock { $0 } }

    func run<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let first = begun.withLock { begun in
            defer { begun = true }
            return !begun
        }
        if first { try await connection.begin(logger: logger) }
        return try await connection.guarded(body)
    }

    public func commit() async throws {
        guard hasBegun else { return }
        try await connection.commit(logger: logger)
    }

    public func rollback(after error: any Error) async {
        guard hasBegun else { return }
        await connection.endFailed(after: error, logger: logger)
    }
}

/// COMMIT was answered ROLLBACK: a statement of the transaction failed, and its body went on.
public struct TransactionRolledBack: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "the transaction was rolled back at its commit: one of its statements had failed" }
}
