import Logging
import ServiceLifecycle

/// Marks sent quotes expired once their last valid day has passed, once a minute. Every replica
/// runs it; the row locks of the update keep two from expiring one quote twice.
struct QuoteExpiry: Service {
    let quotes: QuoteStore
    let logger: Logger
    var interval: Duration = .seconds(60)

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let expired = try await quotes.expireLapsed()
                if expired > 0 { logger.info("quotes expired", metadata: ["count": "\(expired)"]) }
            } catch {
                logger.warning("quote expiry failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
