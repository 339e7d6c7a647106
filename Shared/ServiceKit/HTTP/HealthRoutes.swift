import AMQP
import Foundation
import Hummingbird
import Messaging
import PostgresNIO
import Prometheus

/// `/health/live`, `/health/ready` and `/metrics` (DESIGN.md §7).
public struct HealthChecks: Sendable {
    public var client: PostgresClient
    public var publisher: AMQPPublisher
    public var consumer: AMQPConsumer?
    public var relay: OutboxRelay
    public var registry: PrometheusCollectorRegistry?
    /// The oldest unpublished event may be this old before the service reports itself not ready.
    public var maximumOutboxLag: Duration

    public init(
        client: PostgresClient, publisher: AMQPPublisher, consumer: AMQPConsumer?, relay: OutboxRelay,
        registry: PrometheusCollectorRegistry?, maximumOutboxLag: Duration = .seconds(30)
    ) {
        self.client = client
        self.publisher = publisher
        self.consumer = consumer
        self.relay = relay
        self.registry = registry
        self.maximumOutboxLag = maximumOutboxLag
    }

    struct Readiness: ResponseEncodable {
        var status: String
        var checks: [String: String]
    }

    func readiness() async -> (ready: Bool, report: Readiness) {
        var checks: [String: String] = [:]
        checks["database"] = await databaseCheck()
        checks["broker_publish"] = publisher.isConnected ? "ok" : "not connected"
        if let consumer { checks["broker_consume"] = consumer.isConnected ? "ok" : "not connected" }
        let status = relay.status
        checks["outbox_lag"] =
            status.lag <= maximumOutboxLag ? "ok" : "oldest unpublished event is \(status.lag) old"
        let ready = checks.values.allSatisfy { $0 == "ok" }
        return (ready, Readiness(status: ready ? "ready" : "not ready", checks: checks))
    }

    private func databaseCheck() async -> String {
        await withTaskGroup(of: String.self) { group in
            group.addTask {
                do {
                    try await client.query("SELECT 1")
                    return "ok"
                } catch {
                    return "unreachable: \(String(reflecting: error))"
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                return "timed out after 2 s"
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("/health/live") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"live"}"#)))
        }
        router.get("/health/ready") { _, _ in
            let (ready, report) = await readiness()
            let body = try JSONEncoder().encode(report)
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body))
            )
        }
        if let registry {
            router.get("/metrics") { _, _ in
                var buffer: [UInt8] = []
                buffer.reserveCapacity(4096)
                registry.emit(into: &buffer)
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                    body: .init(byteBuffer: ByteBuffer(bytes: buffer))
                )
            }
        }
    }
}
