import Logging
import ServiceLifecycle

/// Every few minutes deletes what nobody will read again: expired idempotency records (the table
/// holds a day of keys), and sessions and failed sign-ins long past.
struct Sweeper: Service {
    let idempotency: IdempotencyStore
    let sessions: SessionStore
    let logger: Logger
    var interval = Duration.seconds(300)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Each on its own: a failure of one leaves the other's rows to this round all the same.
            for (name, sweep) in [("idempotency records", idempotency.sweep), ("sessions", sessions.sweep)] as [(String, () async throws -> Void)] {
                do {
                    try await sweep()
                } catch {
                    logger.warning("sweep failed", metadata: ["what": "\(name)", "error": "\(String(reflecting: error))"])
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
