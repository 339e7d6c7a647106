import AMQP
import Foundation
import Messaging
import PostgresNIO
import Synchronization
import Testing
import TestSupport

/// The local PostgreSQL restarted under the running suite, ten times, in both shutdown modes that
/// end connections: `fast` (backends terminated, a clean checkpoint) and `immediate` (a crash, then
/// recovery), while four clients create contacts through the gateway.
@Suite("PostgreSQL restarts under load", .serialized, .timeLimit(.minutes(10)))
struct DatabaseRestartTests {
    static let services = LocalStack.services.map(\.name)
    static let probeType = "probe.restarted"

    @Test("after each restart no acknowledged write is missing, every relay publishes within 5 s, readiness failed meanwhile; every event applies once")
    func restartsUnderLoad() async throws {
        try await TestEnvironment.withClient { admin in
            let probes = try await ProbeListener.start()
            let load = ContactLoad()
            let loading = Task { await load.run(clients: 4) }
            try await Task.sleep(for: .seconds(2))

            for cycle in 0..<10 {
                let mode = cycle.isMultiple(of: 2) ? "fast" : "immediate"
                // A restart is a stop and a start; done apart, the test sees readiness while the
                // database is down, however short the outage would otherwise be.
                try await LocalStack.pgctl(["stop", "-m", mode, "-w", "-t", "60"])
                let notReady = try await TestEnvironment.eventually(timeout: .seconds(10), every: .milliseconds(50)) {
                    await LocalStack.status(LocalStack.baseURL(of: "contacts") + "/health/ready", timeout: 5) == 503
                }
                #expect(notReady, "cycle \(cycle) (\(mode)): /health/ready fails while the database is down")
                try await LocalStack.pgctl(["start", "-w", "-t", "60"])
                // Each relay publishes an event written once the database is back.
                var written: [String: (id: UUID, at: ContinuousClock.Instant)] = [:]
                for service in Self.services { written[service] = try await Self.writeProbe(for: service, admin) }
                for (service, probe) in written {
                    let arrived = try await probes.arrival(of: probe.id, timeout: .seconds(10))
                    #expect(arrived.map { $0 - probe.at <= .seconds(5) } == true,
                            "cycle \(cycle) (\(mode)): \(service)'s relay published after \(arrived.map { "\($0 - probe.at)" } ?? "more than 10 s")")
                }
                try await Task.sleep(for: .seconds(1))
            }
            load.stop()
            await loading.value
            await probes.close()

            try await load.checkStored(admin)
            // The contacts' events reach sales once each: its replica holds every contact, its inbox
            // each created event, and nothing went to its dead letters.
            let ids = load.all.compactMap(\.id)
            let replicated = try await TestEnvironment.eventually(timeout: .seconds(60), every: .milliseconds(500)) {
                try await ContactLoad.column("SELECT id::text FROM sales.contacts WHERE id::text = ANY($1::text[])", binds: ids, admin).count == ids.count
            }
            #expect(replicated, "sales' replica holds every contact created")
            let events = try await ContactLoad.column("""
                SELECT o.id::text FROM contacts.outbox o
                WHERE o.type = 'contacts.contact.created' AND o.aggregate_id::text = ANY($1::text[])
                """, binds: ids, admin)
            #expect(events.count == ids.count, "one created event per contact")
            let applied = try await ContactLoad.column("SELECT message_id::text FROM sales.inbox WHERE message_id::text = ANY($1::text[])", binds: events, admin)
            #expect(applied.count == events.count, "sales applied each of them")
            let deadLetters = try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
                var found = 0
                while let delivery = try channel.get(queue: CRMTopology.deadQueue("sales")) {
                    if events.contains(delivery.properties.messageId ?? "") { found += 1 }
                }
                return found  // unacked: they return to the queue when the channel closes
            }
            #expect(deadLetters == 0, "none of them was dead-lettered")
            let unknown = load.all.flatMap(\.problems).filter { $0.hasSuffix("commit-outcome-unknown") }.count
            let unavailable = load.all.flatMap(\.problems).filter { $0.hasSuffix("database-unavailable") }.count
            print("restart test: \(load.all.count) creates, \(unavailable) answered database-unavailable, \(unknown) commit-outcome-unknown")
        }
    }

    /// Writes an event into `service`'s outbox, as the service would (with the NOTIFY), as soon
    /// as the database takes it; returns its id and when it committed.
    static func writeProbe(for service: String, _ admin: PostgresClient) async throws -> (id: UUID, at: ContinuousClock.Instant) {
        let envelope = EventEnvelope(
            type: "\(LocalStack.eventPrefix(of: service)).\(probeType)", producer: LocalStack.eventPrefix(of: service), aggregateId: UUID(), aggregateVersion: 1, data: .object([:])
        )
        let payload = String(decoding: try envelope.encoded(), as: UTF8.self)
        var binds = PostgresBindings()
        binds.append(envelope.id)
        binds.append(envelope.type)
        binds.append(envelope.aggregateId)
        binds.append(payload)
        let insert = PostgresQuery(unsafeSQL: """
            WITH written AS (
                INSERT INTO \(service).outbox (id, type, aggregate_id, aggregate_version, payload, headers, correlation_id, event_version)
                VALUES ($1, $2, $3, 1, $4::json, '{"x-event-version": 1}', $1, 1))
            SELECT pg_notify('outbox_\(service)', '')
            """, binds: binds)
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                try await admin.query(insert)
                return (envelope.id, ContinuousClock.now)
            } catch where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))  // the admin pool reconnects too
            }
        }
    }
}

/// A queue of the test's own bound to every service's probe events, recording when each arrives.
final class ProbeListener: Sendable {
    private let consumer: AMQPConsumer
    private let arrivals = Mutex<[UUID: ContinuousClock.Instant]>([:])
    private let queue: String

    private init(consumer: AMQPConsumer, queue: String) {
        self.consumer = consumer
        self.queue = queue
    }

    static func start() async throws -> ProbeListener {
        let queue = TestEnvironment.uniqueName("probes")
        let consumer = AMQPConsumer(
            configuration: TestEnvironment.broker("restart probes"),
            topology: Topology(
                queues: [.init(name: queue, durable: false)],
                bindings: [.init(queue: queue, exchange: CRMTopology.eventsExchange, routingKey: "*.\(DatabaseRestartTests.probeType)")]
            ),
            queues: [queue], prefetch: 100, logger: TestEnvironment.logger
        )
        let listener = ProbeListener(consumer: consumer, queue: queue)
        Task {
            for await delivery in consumer.deliveries {
                if let id = try? EventEnvelope.decode(delivery.body).id {
                    listener.arrivals.withLock { $0[id] = $0[id] ?? ContinuousClock.now }
                }
                consumer.ack(delivery)
            }
        }
        _ = try await TestEnvironment.eventually(timeout: .seconds(10)) { consumer.isConnected }
        return listener
    }

    func arrival(of id: UUID, timeout: Duration) async throws -> ContinuousClock.Instant? {
        var found: ContinuousClock.Instant?
        _ = try await TestEnvironment.eventually(timeout: timeout, every: .milliseconds(20)) {
            found = self.arrivals.withLock { $0[id] }
            return found != nil
        }
        return found
    }

    func close() async {
        await consumer.close()
        try? await AMQPOneShot.run(TestEnvironment.broker()) { [queue] channel in try channel.deleteQueue(queue) }
    }
}
