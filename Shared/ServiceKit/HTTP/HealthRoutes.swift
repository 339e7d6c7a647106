import AMQP
import Foundation
import Hummingbird
import Messaging
import PostgresNIO
import Prometheus
import Storage

/// `/health/live`, `/health/ready` and `/metrics` (DESIGN.md §7).
public struct HealthChecks: Sendable {
    public var publisher: AMQPPublisher
    public var consumer: AMQPConsumer?
    public var relay: OutboxRelay
    public var registry: PrometheusCollectorRegistry?
    /// The oldest unpublished event may be this old before the service reports itself not ready.
    public var maximumOutboxLag: Duration

    public init(
        publisher: AMQPPublisher, consumer: AMQPConsumer?, relay: OutboxRelay,
        registry: PrometheusCollectorRegistry?, maximumOutboxLag: Duration = .seconds(30)
    ) {
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

    /// Each check asks now: the database, the broker connections, and the outbox's lag as the
    /// database sees it (so a relay that stopped leading, here or anywhere, cannot leave a stale
    /// "ok" behind). An outbox that lags is not ready, with the relays' state as the reason.
    func readiness() async -> (ready: Bool, report: Readiness) {
        var checks: [String: String] = [:]
        checks["broker_publish"] = publisher.isConnected ? "ok" : "not connected"
        if let consumer { checks["broker_consume"] = consumer.isConnected ? "ok" : "not connected" }
        do {
            let reading = try await relay.read()
            checks["database"] = "ok"
            if reading.lag <= maximumOutboxLag {
                checks["outbox_lag"] = "ok"
            } else {
                let status = relay.status
                let relays =
                    status.isLeader ? "this replica's relay leads but does not keep up"
                    : reading.someoneLeads ? "another replica's relay leads"
                    : "no relay leads" + (status.lastError.map { "; this replica's last failure: \($0)" } ?? "")
                checks["outbox_lag"] = "the oldest unpublished event is \(reading.lag.components.seconds) s old (at most \(maximumOutboxLag.components.seconds) s); \(relays)"
            }
        } catch {
            relay.lagUnknown()
            checks["database"] = error is DeadlineExceeded ? "no answer within 2 s" : "unreachable: \(DatabaseFault.reason(error))"
            checks["outbox_lag"] = "unknown: the database cannot say"
        }
        let ready = checks.values.allSatisfy { $0 == "ok" }
        return (ready, Readiness(status: ready ? "ready" : "not ready", checks: checks))
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
                // The lag gauge as of now (NaN when the database cannot say).
                if (try? await relay.read()) == nil { relay.lagUnknown() }
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
