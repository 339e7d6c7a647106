import AMQP
import ArgumentParser
import Foundation
import Messaging
import PostgresNIO
import ServiceKit
import Storage
import Synchronization

/// `switchboard bench messaging`: the messaging backbone against its raw parts, in one run on this
/// machine, with the administrator credentials of `SWITCHBOARD_PG_*` / `SWITCHBOARD_AMQP_*`.
/// Everything it creates carries a `bench_` name and is removed at the end.
struct MessagingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messaging",
        abstract: "Raw rabbitmq-c publish and consume against the outbox relay and the event consumer, and end-to-end latency."
    )

    @Option(help: "Events per throughput run.") var events = 20_000
    @Option(help: "Confirm window: raw publish chunk and relay batch size alike.") var window = 1_000
    @Option(help: "Consumer prefetch, as the services use.") var prefetch: UInt16 = 32
    @Option(help: "Seconds of the fixed-rate latency run.") var latencySeconds = 5
    @Option(help: "Events per second of the latency run.") var rate = 1_000
    @Option(help: "The pgbench executable.") var pgbench = "/usr/lib/postgresql/15/bin/pgbench"
    // A count, not -T: pgbench's -T timer is a signal, which a child of this process may have blocked.
    @Option(help: "Transactions of the pgbench run.") var pgbenchTransactions = 20_000

    func run() async throws {
        let name = "bench_\(UUID().uuidString.prefix(8).lowercased())"
        let schema = try SchemaName(name)
        let environment = SwitchboardEnvironment()
        let database = environment.database(defaultUser: "switchboard_admin")
        let broker = environment.broker(defaultUser: "switchboard_admin", connectionName: "switchboard bench")
        let logger = OperatorContext.logger
        let body = Array(String(repeating: "x", count: 1024).utf8)
        let eventType = "\(name).thing.changed"
        let rawQueue = "\(name).raw"
        let rawTopology = Topology(
            exchanges: [.init(name: "\(name).raw", type: "direct")],
            queues: [.init(name: rawQueue, arguments: ["x-queue-type": "quorum"])],
            bindings: [.init(queue: rawQueue, exchange: "\(name).raw", routingKey: "k")]
        )
        print("switchboard bench messaging: \(events) events of 1 KiB, confirm window \(window), prefetch \(prefetch)")

        try await OperatorContext.withClient { client in
            try await Migrator(schema: schema, migrations: MessagingMigrations.all + [Self.benchTable])
                .migrate(client, logger: logger)
            defer { Task { try? await Self.cleanUp(name: name, broker: broker) } }

            // 1. Raw confirmed publish: chunks of `window`, each awaited, as the relay does with a batch.
            let rawPublisher = AMQPPublisher(configuration: broker, topology: rawTopology, confirmWindow: window, logger: logger)
            var start = ContinuousClock.now
            var sent = 0
            while sent < events {
                let chunk = (0..<min(window, events - sent)).map { _ in
                    OutgoingMessage(exchange: "\(name).raw", routingKey: "k", body: body)
                }
                for result in await rawPublisher.publish(chunk) { try result.get() }
                sent += chunk.count
            }
            let rawPublishRate = Double(events) / seconds(since: start)
            await rawPublisher.close()

            // 2. Raw consume and ack.
            let rawConsumer = AMQPConsumer(configuration: broker, topology: rawTopology, queues: [rawQueue], prefetch: prefetch, logger: logger)
            start = ContinuousClock.now
            var consumed = 0
            for await delivery in rawConsumer.deliveries {
                rawConsumer.ack(delivery)
                consumed += 1
                if consumed == events { break }
            }
            let rawConsumeRate = Double(events) / seconds(since: start)
            await rawConsumer.close()

            // 3. The relay: the same number of 1 KiB events, already committed, drained in batches.
            let aggregates = (0..<100).map { _ in UUID() }
            let payload = JSONValue.object(["note": .string(String(repeating: "x", count: 700))])
            var written = 0
            while written < events {
                let count = min(1_000, events - written)
                try await client.withTransaction(logger: logger) { connection in
                    let batch = (0..<count).map { index in
                        EventEnvelope(
                            type: eventType, producer: name, aggregateId: aggregates[(written + index) % aggregates.count],
                            aggregateVersion: Int64(written + index + 1), data: payload
                        )
                    }
                    try await Outbox(schema: schema).append(batch, on: connection, logger: logger)
                }
                written += count
            }
            let consumer = AMQPConsumer(
                configuration: broker, topology: CRMTopology.consumer(service: name, eventTypes: [eventType]),
                queues: [CRMTopology.eventsQueue(name)], prefetch: prefetch, logger: logger
            )
            let publisher = AMQPPublisher(configuration: broker, topology: CRMTopology.exchanges, confirmWindow: window, logger: logger)
            while !consumer.isConnected { try await Task.sleep(for: .milliseconds(20)) }
            var settings = OutboxRelay.Settings()
            settings.batchSize = window
            let relay = OutboxRelay(
                schema: schema, producer: name, database: database, client: client, publisher: publisher,
                settings: settings, logger: logger
            )
            let relayTask = Task { try await relay.run() }
            start = ContinuousClock.now
            try await waitUntil { try await count("SELECT count(*)::int8 FROM \(schema.table("outbox")) WHERE published_at IS NULL", client) == 0 }
            let relayRate = Double(events) / seconds(since: start)

            // 4. The event consumer: inbox row and a one-row upsert per event, one transaction each.
            let eventConsumer = EventConsumer(
                service: name, schema: schema, client: client, consumer: consumer, publisher: publisher,
                handlers: [Self.upsertHandler(schema: schema, type: eventType)], logger: logger
            )
            start = ContinuousClock.now
            let consumerTask = Task { try await eventConsumer.run() }
            try await waitUntil { try await count("SELECT count(*)::int8 FROM \(schema.table("inbox"))", client) == events }
            let applyRate = Double(events) / seconds(since: start)
            let pgbenchRate = try runPgbench(schema: schema, database: database)

            // 5. Latency from outbox commit to handler commit at a fixed rate.
            let committed = CommitTimes()
            let total = rate * latencySeconds
            let rate = rate
            start = ContinuousClock.now
            let latencyStart = start
            try await withThrowingTaskGroup(of: Void.self) { group in
                let writers = 8
                for writer in 0..<writers {
                    group.addTask {
                        var index = writer
                        while index < total {
                            let due = latencyStart + .microseconds(Int64(index) * 1_000_000 / Int64(rate))
                            if due > .now { try await Task.sleep(until: due) }
                            let event = EventEnvelope(
                                type: eventType, producer: name, aggregateId: UUID(), aggregateVersion: 1, data: payload
                            )
                            try await client.withTransaction(logger: logger) { connection in
                                try await Outbox(schema: schema).append(event, on: connection, logger: logger)
                            }
                            let now = Date()
                            committed.times.withLock { $0[event.id] = now }
                            index += writers
                        }
                    }
                }
                try await group.waitForAll()
            }
            let achieved = Double(total) / seconds(since: start)
            try await waitUntil {
                try await count("SELECT count(*)::int8 FROM \(schema.table("inbox")) WHERE type = '\(eventType)'", client) == events + total
            }
            var latencies: [Double] = []
            let rows = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT event_id, applied_at FROM \(schema.table("bench_applied"))"), logger: logger
            )
            let commits = committed.times.withLock { $0 }
            for try await (id, applied) in rows.decode((UUID, Date).self) {
                if let commit = commits[id] { latencies.append(applied.timeIntervalSince(commit) * 1000) }
            }
            latencies.sort()
            // Where the time goes: outbox row written → marked published (after the confirm) → applied.
            var stages = "n/a"
            for try await (toPublished, toApplied) in try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM o.published_at - o.created_at)) * 1000,
                               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.applied_at - o.published_at)) * 1000
                        FROM \(schema.table("outbox")) o JOIN \(schema.table("bench_applied")) a ON a.event_id = o.id
                        WHERE o.seq > \(events)
                        """
                ),
                logger: logger
            ).decode((Double, Double).self) {
                stages = String(format: "row written to marked published p50 %.1f ms, marked published to applied p50 %.1f ms", toPublished, toApplied)
            }
            relayTask.cancel()
            consumerTask.cancel()
            await consumer.close()
            await publisher.close()

            print(String(format: "raw rabbitmq-c confirmed publish   %10.0f msg/s", rawPublishRate))
            print(String(format: "outbox relay                      %10.0f events/s   ratio %.2f (target >= 0.5)", relayRate, relayRate / rawPublishRate))
            print(String(format: "raw consume and ack               %10.0f msg/s", rawConsumeRate))
            print(String(format: "event consumer (inbox + upsert)   %10.0f events/s   %.2f of raw consume", applyRate, applyRate / rawConsumeRate))
            print(String(format: "pgbench inbox + upsert, 1 client  %10.0f tx/s       ratio %.2f (target >= 0.5)", pgbenchRate, applyRate / pgbenchRate))
            print(String(format: "latency at %.0f events/s (%d events, %d matched): p50 %.1f ms  p99 %.1f ms (target p99 <= 50 ms)",
                         achieved, total, latencies.count, percentile(latencies, 0.50), percentile(latencies, 0.99)))
            print("  \(stages)")
        }
    }

    static let benchTable = Migration(
        version: 100, name: "bench tables",
        sql: """
            CREATE TABLE bench_counts (id int PRIMARY KEY, n bigint NOT NULL);
            CREATE TABLE bench_applied (event_id uuid PRIMARY KEY, applied_at timestamptz NOT NULL);
            """
    )

    /// The "one-row upsert" the event consumer is measured with; it also notes when it applied the
    /// event (the commit follows at once), for the latency figures.
    static func upsertHandler(schema: SchemaName, type: String) -> EventHandler {
        EventHandler(type: type) { envelope, context in
            try await context.connection.query(
                PostgresQuery(unsafeSQL: upsertSQL(schema, aggregate: "$1", event: "$2"),
                              binds: try .of(Int(envelope.aggregateId.uuid.0 % 100), envelope.id)),
                logger: context.logger
            )
        }
    }

    /// One statement: the upsert, and a row noting when the event was applied (the commit follows
    /// at once), for the latency figures.
    static func upsertSQL(_ schema: SchemaName, aggregate: String, event: String) -> String {
        """
        WITH noted AS (INSERT INTO \(schema.table("bench_applied")) (event_id, applied_at) VALUES (\(event), clock_timestamp()))
        INSERT INTO \(schema.table("bench_counts")) AS c (id, n) VALUES (\(aggregate), 1) ON CONFLICT (id) DO UPDATE SET n = c.n + 1
        """
    }

    /// The same transaction as the consumer's (inbox insert, then the handler's statement) with one client.
    func runPgbench(schema: SchemaName, database: DatabaseConfiguration) throws -> Double {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("\(schema.rawValue).sql")
        try """
            \\set agg random(0, 99)
            BEGIN;
            INSERT INTO \(schema.table("inbox")) (message_id, type) VALUES (gen_random_uuid(), 'bench') ON CONFLICT DO NOTHING;
            \(Self.upsertSQL(schema, aggregate: ":agg", event: "gen_random_uuid()").replacingOccurrences(of: "\n", with: " "));
            COMMIT;
            """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        return try pgbenchRate(executable: pgbench, script: script, clients: 1, transactions: pgbenchTransactions, database: database)
    }

    static func cleanUp(name: String, broker: AMQPConfiguration) async throws {
        try await OperatorContext.withClient { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(name)\" CASCADE"), logger: OperatorContext.logger)
        }
        try await AMQPOneShot.run(broker) { channel in
            for queue in ["\(name).raw", "\(name).events", "\(name).dead"] { try channel.deleteQueue(queue) }
            try channel.deleteExchange("\(name).raw")
        }
    }
}

private final class CommitTimes: Sendable {
    let times = Mutex([UUID: Date]())
}
