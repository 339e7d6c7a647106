import Logging
import ServiceLifecycle

/// Deletes expired idempotency records every few minutes, so the table holds a day of keys.
struct IdempotencySweeper: Service {
    let store: IdempotencyStore
    let logger: Logger
    var interval = Duration.seconds(300)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await store.sweep()
            } catch {
                logger.warning("idempotency sweep failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
