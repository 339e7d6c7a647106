import AMQP
import ArgumentParser
import Foundation
import Messaging
import PostgresNIO
import ServiceKit
import Storage

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
    @Option(help: "Consumer prefetch, as the services use.") var prefetch: UInt16 = 128
    @Option(help: "Consumer lanes, as the services use.") var lanes = EventConsumer.defaultLanes
    // Twenty: the p99 of a five-second run is its 50th-worst event, and one pause of the shared
    // two cores (a new WAL segment, a checkpoint's first writes) made or broke it: 32–62 ms over
    // four five-second runs of one build, 29–46 ms over five twenty-second runs of it.
    @Option(help: "Seconds of the fixed-rate latency run.") var latencySeconds = 20
    @Option(help: "Events per second of the latency run.") var rate = 1_000
    @Option(help: "The pgbench executable.") var pgbench = "/usr/lib/postgresql/15/bin/pgbench"
    // A count, not -T: pgbench's -T timer is a signal, which a child of this process may have blocked.
    @Option(help: "Transactions of the pgbench run.") var pgbenchTransactions = 20_000

    func run() async throws {
        EventLoopExecutor.install()  // as the services run the relay and the consumer
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

        // Removed at the end, also when a step fails; a `defer` could not await it before the exit.
        do {
            try await OperatorContext.withClient { client in
                try await Migrator(schema: schema, sql: MessagingMigrations.sql + SQLFiles(migrations: [Self.benchTable], functions: []))
                    .migrate(client, logger: logger)

                // 1. Raw confirmed publish: chunks of `window`, each awaited, as the relay does with a batch.
                let rawPublisher = AMQPPublisher(configuration: broker, topology: rawTopology, confirmWindow: window, logger: logger)
                let rawPublishRate = try await publishRate(rawPublisher) {
                    OutgoingMessage(exchange: "\(name).raw", routingKey: "k", body: body)
                }
                await rawPublisher.close()

                // 1b. The relay's own messages, still without the outbox: the properties and headers
                // of DESIGN.md §2, through the `crm.events` topic exchange into an events queue
                // declared as a service declares it. What the broker can take of exactly what the
                // relay sends; the queue goes at once, so the later steps find the broker as before.
                let likeService = "\(name)_raw"
                let likeType = "\(name).raw.published"
                let likePublisher = AMQPPublisher(
                    configuration: broker, topology: CRMTopology.selfContained(service: likeService, eventTypes: [likeType]),
                    confirmWindow: window, logger: logger
                )
                let likePublishRate = try await publishRate(likePublisher) {
                    let id = UUID.timeOrdered()
                    return OutgoingMessage.event(
                        id: id, type: likeType, body: body, correlationId: id, eventVersion: 1, occurredAt: Date(), producer: name
                    )
                }
                await likePublisher.close()
                try await Self.deleteQueues(of: likeService, broker: broker)

                // 2. Raw consume and ack.
                let rawConsumer = AMQPConsumer(configuration: broker, topology: rawTopology, queues: [rawQueue], prefetch: prefetch, logger: logger)
                let start = ContinuousClock.now
                var consumed = 0
                for await delivery in rawConsumer.deliveries {
                    rawConsumer.ack(delivery)
                    consumed += 1
                    if consumed == events { break }
                }
                let rawConsumeRate = Double(events) / seconds(since: start)
                await rawConsumer.close()

                // 3. The relay: the same number of 1 KiB events, committed at once, drained in batches.
                // It leads before they commit, so that its figure is the drain and not its start
                // (a connection, the lock, LISTEN, two prepares), as the raw figures leave out theirs.
                let consumer = AMQPConsumer(
                    configuration: broker, topology: CRMTopology.selfContained(service: name, eventTypes: [eventType]),
                    queues: [CRMTopology.eventsQueue(name)], prefetch: prefetch, logger: logger
                )
                let publisher = AMQPPublisher(configuration: broker, topology: CRMTopology.exchanges, confirmWindow: window, logger: logger)
                try await waitUntil { consumer.isConnected && publisher.isConnected }
                var settings = OutboxRelay.Settings()
                settings.batchSize = window
                let relay = OutboxRelay(
                    schema: schema, producer: name, database: database, client: client, publisher: publisher,
                    settings: settings, logger: logger
                )
                let relayTask = Task { try await relay.run() }
                try await waitUntil { relay.status.isLeader }
                let aggregates = (0..<100).map { _ in UUID() }
                let payload = JSONValue.object(["note": .string(String(repeating: "x", count: 700))])
                try await client.withTransaction(logger: logger) { connection in
                    var written = 0
                    while written < events {
                        let count = min(1_000, events - written)
                        let batch = (0..<count).map { index in
                            EventEnvelope(
                                type: eventType, producer: name, aggregateId: aggregates[(written + index) % aggregates.count],
                                aggregateVersion: Int64(written + index + 1), data: payload
                            )
                        }
                        try await Outbox(schema: schema).append(batch, on: connection, logger: logger)
                        written += count
                    }
                }
                // Read after the commit, a round trip late: the relay's figure gains that much.
                var since = try await databaseNow(client)
                // Whether one unpublished row is left, not how many: counting 20,000 of them took 11 ms,
                // ten times a second, of the two cores the relay and the broker share.
                try await waitUntil {
                    try await count("SELECT count(*)::int8 FROM (SELECT FROM \(schema.table("outbox")) WHERE published_at IS NULL LIMIT 1) unpublished", client) == 0
                }
                let relayRate = Double(events) / (try await secondsBetween(since, latest: "published_at", in: schema.table("outbox"), client))

                // 4. The event consumer: inbox row and a one-row upsert per event, in lanes and batches as the services run it.
                let eventConsumer = EventConsumer(
                    service: name, schema: schema, client: client, consumer: consumer, publisher: publisher,
                    handlers: [Self.upsertHandler(schema: schema, type: eventType)], lanes: lanes, logger: logger
                )
                since = try await databaseNow(client)
                let consumerTask = Task { try await eventConsumer.run() }
                try await waitUntil { try await count("SELECT count(*)::int8 FROM \(schema.table("inbox"))", client) == events }
                let applyRate = Double(events) / (try await secondsBetween(since, latest: "applied_at", in: schema.table("bench_applied"), client))
                let pgbenchRate = try await runPgbench(schema: schema, database: database)

                // 5. Latency from outbox commit to handler commit at a fixed rate. The writers are pgbench
                // clients, as the producing service is another process than the consuming one.
                // Whole transactions per writer: pgbench gives each client total / clients, and the
                // wait below counts on every event being written.
                let total = max(1, rate * latencySeconds / Self.writers) * Self.writers
                let achieved = try await runWriters(schema: schema, producer: name, eventType: eventType, total: total, database: database)
                try await waitUntil {
                    try await count("SELECT count(*)::int8 FROM \(schema.table("inbox")) WHERE type = '\(eventType)'", client) == events + total
                }
                let latency = try await latencyFigures(schema: schema, events: events, total: total, achieved: achieved, client: client)
                relayTask.cancel()
                consumerTask.cancel()
                await consumer.close()
                await publisher.close()

                print(String(format: "raw rabbitmq-c confirmed publish   %10.0f msg/s", rawPublishRate))
                print(String(format: "  the relay's messages, raw       %10.0f msg/s      (DESIGN.md §2 properties, crm.events, an events queue)", likePublishRate))
                print(String(format: "outbox relay                      %10.0f events/s   ratio %.2f (target >= 0.5); %.2f of its messages raw", relayRate, relayRate / rawPublishRate, relayRate / likePublishRate))
                print(String(format: "raw consume and ack               %10.0f msg/s", rawConsumeRate))
                print(String(format: "event consumer (inbox + upsert)   %10.0f events/s   %.2f of raw consume", applyRate, applyRate / rawConsumeRate))
                print(String(format: "pgbench inbox + upsert, %d clients %10.0f tx/s       ratio %.2f (target >= 0.5)", lanes, pgbenchRate, applyRate / pgbenchRate))
                print(latency)
            }
        } catch {
            try? await Self.cleanUp(name: name, broker: broker)
            throw error
        }
        try await Self.cleanUp(name: name, broker: broker)
    }

    /// Publishes `events` messages in chunks of `window`, each chunk awaited whole, as the relay
    /// awaits a batch; returns messages per second from the moment the publisher is connected.
    func publishRate(_ publisher: AMQPPublisher, _ message: () -> OutgoingMessage) async throws -> Double {
        try await waitUntil { publisher.isConnected }
        let start = ContinuousClock.now
        var sent = 0
        while sent < events {
            let chunk = (0..<min(window, events - sent)).map { _ in message() }
            for result in await publisher.publish(chunk) { try result.get() }
            sent += chunk.count
        }
        return Double(events) / seconds(since: start)
    }

    /// Latency of the fixed-rate run's events, from the commit of the transaction that wrote each
    /// one to the commit of the handler's, by the commit timestamps PostgreSQL keeps when
    /// `track_commit_timestamp` is on (as `compose/local.sh` runs it). Without them, from the row's
    /// insert to the handler's statement: the writer's own commit wait counts, so the figures err long.
    func latencyFigures(schema: SchemaName, events: Int, total: Int, achieved: Double, client: PostgresClient) async throws -> String {
        var exact = false
        for try await setting in try await client.query("SELECT current_setting('track_commit_timestamp')").decode(String.self) {
            exact = setting == "on"
        }
        let committed = exact ? "pg_xact_commit_timestamp(xid(o.written_by))" : "o.created_at"
        let applied = exact ? "pg_xact_commit_timestamp(a.xmin)" : "a.applied_at"
        func milliseconds(_ fraction: Double, from: String, to: String) -> String {
            "percentile_cont(\(fraction)) WITHIN GROUP (ORDER BY extract(epoch FROM \(to) - \(from))) * 1000"
        }
        let rows = try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    SELECT count(*)::int8, \(milliseconds(0.5, from: committed, to: applied)), \(milliseconds(0.99, from: committed, to: applied)),
                           \(milliseconds(0.5, from: committed, to: "o.published_at")), \(milliseconds(0.99, from: committed, to: "o.published_at")),
                           \(milliseconds(0.5, from: "o.published_at", to: applied)), \(milliseconds(0.99, from: "o.published_at", to: applied)),
                           \(milliseconds(0.5, from: "o.created_at", to: committed))
                    FROM \(schema.table("outbox")) o JOIN \(schema.table("bench_applied")) a ON a.event_id = o.id
                    WHERE o.seq > \(events)
                    """
            )
        ).decode((Int, Double, Double, Double, Double, Double, Double, Double).self)
        for try await (matched, p50, p99, toPublished, toPublished99, toApplied, toApplied99, toCommit) in rows {
            // Where the time goes: committed → marked published (after the confirm) → applied.
            return String(
                format: """
                    latency at %.0f events/s (%d events, %d matched), %@: p50 %.1f ms  p99 %.1f ms (target p99 <= 50 ms)
                      committed to marked published p50 %.1f ms p99 %.1f ms, marked published to applied p50 %.1f ms p99 %.1f ms%@
                    """,
                achieved, total, matched, exact ? "commit to commit" : "insert to handler statement (no commit timestamps)",
                p50, p99, toPublished, toPublished99, toApplied, toApplied99,
                exact ? String(format: "; not counted: the writer's insert to its commit p50 %.1f ms", toCommit) : ""
            )
        }
        return "latency: no events matched"
    }

    static let writers = 8

    /// The platform's consume-and-apply rate on its own, for another benchmark to compare with
    /// (`bench erp`): `events` events of 1 KiB published into a throwaway service's queue, then
    /// applied by the event consumer (inbox row and a one-row upsert each), in lanes and batches
    /// as the services run it; events per second by the database's clock.
    static func consumeAndApplyRate(events: Int, broker: AMQPConfiguration, client: PostgresClient) async throws -> Double {
        let name = "bench_\(UUID().uuidString.prefix(8).lowercased())"
        let schema = try SchemaName(name)
        let logger = OperatorContext.logger
        let eventType = "\(name).thing.changed"
        do {
            try await Migrator(schema: schema, sql: MessagingMigrations.sql + SQLFiles(migrations: [benchTable], functions: []))
                .migrate(client, logger: logger)
            let publisher = AMQPPublisher(
                configuration: broker, topology: CRMTopology.selfContained(service: name, eventTypes: [eventType]), logger: logger
            )
            let aggregates = (0..<100).map { _ in UUID() }
            let body = Array(#"{"note": "\#(String(repeating: "x", count: 700))"}"#.utf8)
            for batch in stride(from: 0, to: events, by: 1_000) {
                let messages = (batch..<min(events, batch + 1_000)).map { index -> OutgoingMessage in
                    let id = UUID.timeOrdered()
                    let envelope = EventEnvelope(
                        id: id, type: eventType, producer: name, aggregateId: aggregates[index % aggregates.count],
                        aggregateVersion: Int64(index + 1), data: .object(["note": .string(String(repeating: "x", count: 700))])
                    )
                    return OutgoingMessage.event(
                        id: id, type: eventType, body: Array((try? envelope.encoded()) ?? Data(body)), correlationId: id, eventVersion: 1,
                        occurredAt: Date(), producer: name
                    )
                }
                for result in await publisher.publish(messages) { try result.get() }
            }
            let consumer = AMQPConsumer(
                configuration: broker, topology: CRMTopology.selfContained(service: name, eventTypes: [eventType]),
                queues: [CRMTopology.eventsQueue(name)], prefetch: 128, logger: logger
            )
            let eventConsumer = EventConsumer(
                service: name, schema: schema, client: client, consumer: consumer, publisher: publisher,
                handlers: [upsertHandler(schema: schema, type: eventType)], logger: logger
            )
            let since = try await databaseNow(client)
            let consuming = Task { try await eventConsumer.run() }
            try await waitUntil { try await count("SELECT count(*)::int8 FROM \(schema.table("inbox"))", client) == events }
            let rate = Double(events) / (try await secondsBetween(since, latest: "applied_at", in: schema.table("bench_applied"), client))
            consuming.cancel()
            await consumer.close()
            await publisher.close()
            try await cleanUp(name: name, broker: broker)
            return rate
        } catch {
            try? await cleanUp(name: name, broker: broker)
            throw error
        }
    }

    static let benchTable = Migration(
        version: 100, name: "bench tables",
        sql: """
            CREATE TABLE bench_counts (aggregate_id uuid PRIMARY KEY, n bigint NOT NULL);
            CREATE TABLE bench_applied (event_id uuid PRIMARY KEY, applied_at timestamptz NOT NULL);
            -- The writing transaction of each event, whose commit time the latency starts from:
            -- the row's own xmin is the relay's once it marks the row.
            ALTER TABLE outbox ADD COLUMN written_by xid8 NOT NULL DEFAULT pg_current_xact_id();
            """
    )

    /// The "one-row upsert" the event consumer is measured with: a row per aggregate, as a replica
    /// keeps; it also notes when it applied the event, for the latency figures.
    static func upsertHandler(schema: SchemaName, type: String) -> EventHandler {
        EventHandler(type: type) { envelope, context in
            try await context.connection.query(
                PostgresQuery(unsafeSQL: upsertSQL(schema, aggregate: "$1", event: "$2"),
                              binds: try .of(envelope.aggregateId, envelope.id)),
                logger: context.logger
            )
        }
    }

    /// One statement: the upsert, and a row noting when the event was applied (the commit follows
    /// at once), for the latency figures.
    static func upsertSQL(_ schema: SchemaName, aggregate: String, event: String) -> String {
        """
        WITH noted AS (INSERT INTO \(schema.table("bench_applied")) (event_id, applied_at) VALUES (\(event), clock_timestamp()))
        INSERT INTO \(schema.table("bench_counts")) AS c (aggregate_id, n) VALUES (\(aggregate), 1) ON CONFLICT (aggregate_id) DO UPDATE SET n = c.n + 1
        """
    }

    /// Writes `total` events at `rate` per second, each in its own transaction with its `NOTIFY`, as
    /// `Outbox.append` does, from `writers` pgbench clients; returns the rate achieved. They stand in
    /// for a producing service and are not what is timed, so each plans its statements once: planning
    /// this one in every transaction took a sixth of the two cores the timed path runs on.
    func runWriters(schema: SchemaName, producer: String, eventType: String, total: Int, database: DatabaseConfiguration) async throws -> Double {
        let script = """
            BEGIN;
            WITH e AS (SELECT \(schema.quoted).time_ordered_uuid() AS id, gen_random_uuid() AS aggregate_id),
            appended AS (
                INSERT INTO \(schema.table("outbox")) (id, type, aggregate_id, aggregate_version, payload, headers, correlation_id, event_version)
                SELECT id, '\(eventType)', aggregate_id, 1,
                    \(schema.quoted).outbox_envelope(id, '\(eventType)', '\(producer)', aggregate_id, 1,
                        jsonb_build_object('note', repeat('x', 700)), clock_timestamp()),
                    '{"x-event-version": 1}', id, 1
                FROM e
            )
            SELECT pg_notify('\(Outbox(schema: schema).notificationChannel)', '');
            COMMIT;
            """
        return try await pgbenchRate(
            executable: pgbench, script: script, name: "\(schema.rawValue)-writers", clients: Self.writers, transactions: total, rate: rate,
            prepared: true, database: database
        )
    }

    /// The same transaction as the consumer's (inbox insert, then the handler's statement), with as
    /// many clients as the consumer has lanes.
    func runPgbench(schema: SchemaName, database: DatabaseConfiguration) async throws -> Double {
        let script = """
            \\set agg random(0, 99)
            BEGIN;
            INSERT INTO \(schema.table("inbox")) (message_id, type) VALUES (\(schema.quoted).time_ordered_uuid(), 'bench') ON CONFLICT DO NOTHING;
            \(Self.upsertSQL(schema, aggregate: "md5(:agg::text)::uuid", event: "\(schema.quoted).time_ordered_uuid()").replacingOccurrences(of: "\n", with: " "));
            COMMIT;
            """
        return try await pgbenchRate(
            executable: pgbench, script: script, name: schema.rawValue, clients: lanes, transactions: pgbenchTransactions,
            database: database
        )
    }

    static func cleanUp(name: String, broker: AMQPConfiguration) async throws {
        _ = try await OperatorContext.withClient { client in
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(name)\" CASCADE"), logger: OperatorContext.logger)
        }
        try await deleteQueues(of: name, broker: broker)
        try await deleteQueues(of: "\(name)_raw", broker: broker)
        try await AMQPOneShot.run(broker) { channel in
            try channel.deleteQueue("\(name).raw")
            try channel.deleteExchange("\(name).raw")
        }
    }

    static func deleteQueues(of service: String, broker: AMQPConfiguration) async throws {
        try await AMQPOneShot.run(broker) { channel in
            for queue in [CRMTopology.eventsQueue(service), CRMTopology.deadQueue(service)] { try channel.deleteQueue(queue) }
        }
    }
}

