import AMQP
import Foundation
import Logging
import Messaging
import PostgresNIO
import Storage
import TestSupport

/// One throw-away "service" of a test: its schema with outbox, inbox and a projection table,
/// its queues, a publisher, and an event type nobody else binds.
struct MessagingFixture {
    let service: String
    let schema: SchemaName
    let eventType: String
    let client: PostgresClient

    init(client: PostgresClient) throws {
        service = TestEnvironment.uniqueName("svc")
        schema = try SchemaName(service)
        eventType = "\(service).thing.changed"
        self.client = client
    }

    static let projection = Migration(
        version: 100, name: "projection",
        sql: """
            CREATE TABLE things (id uuid PRIMARY KEY, version bigint NOT NULL);
            CREATE TABLE projection (id uuid PRIMARY KEY, version bigint NOT NULL, applied int NOT NULL DEFAULT 0);
            CREATE TABLE out_of_order (id uuid, expected bigint, got bigint);
            """
    )

    func migrate() async throws {
        try await Migrator(schema: schema, sql: MessagingMigrations.sql + SQLFiles(migrations: [Self.projection], functions: []))
            .migrate(client, logger: TestEnvironment.logger)
    }

    /// Removes the schema and the queues, so repeated runs leave no quorum queues on the broker.
    func drop() async throws {
        try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"))
        try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
            for queue in [CRMTopology.eventsQueue(service), CRMTopology.deadQueue(service)] { try channel.deleteQueue(queue) }
        }
    }

    var outbox: Outbox { Outbox(schema: schema) }

    func envelope(aggregate: UUID, version: Int64, id: UUID = UUID()) throws -> EventEnvelope {
        EventEnvelope(
            id: id, type: eventType, producer: service, aggregateId: aggregate, aggregateVersion: version,
            data: .object(["note": .string(String(repeating: "x", count: 200))])
        )
    }

    /// Appends one event per aggregate in one transaction, taking each aggregate's row lock and next
    /// version the way a service's command does.
    func appendChanges(to aggregates: [UUID]) async throws {
        try await client.withTransaction(logger: TestEnvironment.logger) { connection in
            var events: [EventEnvelope] = []
            for aggregate in aggregates {
                let rows = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO \(schema.table("things")) AS t (id, version) VALUES ($1, 1)
                            ON CONFLICT (id) DO UPDATE SET version = t.version + 1 RETURNING version
                            """,
                        binds: try .of(aggregate)
                    ),
                    logger: TestEnvironment.logger
                )
                for try await version in rows.decode(Int64.self) {
                    events.append(try envelope(aggregate: aggregate, version: version))
                }
            }
            try await outbox.append(events, on: connection, logger: TestEnvironment.logger)
        }
    }

    func publisher() -> AMQPPublisher {
        AMQPPublisher(
            configuration: TestEnvironment.broker("\(service) publisher"), topology: CRMTopology.exchanges,
            logger: TestEnvironment.logger
        )
    }

    /// A consumer of the service's queue, bound to `eventTypes` (the fixture's event type unless given).
    func consumer(prefetch: UInt16 = 32, eventTypes: [String]? = nil) -> AMQPConsumer {
        AMQPConsumer(
            configuration: TestEnvironment.broker("\(service) consumer"),
            topology: CRMTopology.selfContained(service: service, eventTypes: eventTypes ?? [eventType]),
            queues: [CRMTopology.eventsQueue(service)], prefetch: prefetch, logger: TestEnvironment.logger
        )
    }

    /// The next `count` deliveries, unsettled, to hand to an `EventConsumer` as one batch.
    func take(_ count: Int, from consumer: AMQPConsumer) async -> [Delivery] {
        var batch: [Delivery] = []
        for await delivery in consumer.deliveries {
            batch.append(delivery)
            if batch.count == count { break }
        }
        return batch
    }

    /// Waits until the consumer's queue exists and is bound, so nothing published after is unrouted.
    func waitUntilBound(_ consumer: AMQPConsumer) async throws {
        _ = try await TestEnvironment.eventually(timeout: .seconds(10)) { consumer.isConnected }
    }

    func relay(_ publisher: AMQPPublisher, batchSize: Int = 500) -> OutboxRelay {
        var settings = OutboxRelay.Settings()
        settings.batchSize = batchSize
        return OutboxRelay(
            schema: schema, producer: service, database: TestEnvironment.database, client: client,
            publisher: publisher, settings: settings, logger: TestEnvironment.logger
        )
    }

    /// A projection handler: keeps the last version applied per aggregate, and records every event
    /// that does not follow the one before it.
    var projectionHandler: EventHandler {
        let schema = schema
        return EventHandler(type: eventType) { envelope, context in
            var binds = PostgresBindings()
            binds.append(envelope.aggregateId)
            try await context.connection.query(
                PostgresQuery(
                    unsafeSQL: "INSERT INTO \(schema.table("projection")) (id, version) VALUES ($1, 0) ON CONFLICT DO NOTHING",
                    binds: binds
                ),
                logger: context.logger
            )
            let rows = try await context.connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT version FROM \(schema.table("projection")) WHERE id = $1 FOR UPDATE", binds: binds
                ),
                logger: context.logger
            )
            var last: Int64 = 0
            for try await version in rows.decode(Int64.self) { last = version }
            var update = PostgresBindings()
            update.append(envelope.aggregateId)
            update.append(last)
            update.append(envelope.aggregateVersion)
            if envelope.aggregateVersion != last + 1 {
                try await context.connection.query(
                    PostgresQuery(
                        unsafeSQL: "INSERT INTO \(schema.table("out_of_order")) (id, expected, got) VALUES ($1, $2 + 1, $3)",
                        binds: update
                    ),
                    logger: context.logger
                )
            }
            var apply = PostgresBindings()
            apply.append(envelope.aggregateId)
            apply.append(envelope.aggregateVersion)
            try await context.connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE \(schema.table("projection")) SET version = greatest(version, $2), applied = applied + 1
                        WHERE id = $1
                        """,
                    binds: apply
                ),
                logger: context.logger
            )
        }
    }
}
