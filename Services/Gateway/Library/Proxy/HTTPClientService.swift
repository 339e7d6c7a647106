import AsyncHTTPClient
import ServiceLifecycle

/// Keeps the gateway's HTTP client until the service group shuts down, then closes its pool.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
