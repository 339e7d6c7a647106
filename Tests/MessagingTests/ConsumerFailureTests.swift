import AMQP
import Foundation
@testable import Messaging
import PostgresNIO
import Storage
import Synchronization
import Testing
import TestSupport

@Suite("Event consumer: duplicates, poison messages, retries", .serialized, .timeLimit(.minutes(2)))
struct ConsumerFailureTests {
    /// Publishes straight to `crm.events` (as a misbehaving producer could) and applies what arrives
    /// with `process`, returning the outcomes in order.
    func deliver(
        _ fixture: MessagingFixture, bodies: [(id: String, body: [UInt8])], handlers: [EventHandler], outcomes count: Int
    ) async throws -> [EventConsumer.Outcome] {
        let publisher = fixture.publisher()
        let consumer = fixture.consumer()
        try await fixture.waitUntilBound(consumer)
        let eventConsumer = EventConsumer(
            service: fixture.service, schema: fixture.schema, client: fixture.client, consumer: consumer,
            publisher: publisher, handlers: handlers, logger: TestEnvironment.logger
        )
        for (id, body) in bodies {
            try await publisher.publish(
                OutgoingMessage(
                    exchange: CRMTopology.eventsExchange, routingKey: fixture.eventType, body: body,
                    properties: MessageProperties(contentType: "application/json", messageId: id)
                )
            )
        }
        var outcomes: [EventConsumer.Outcome] = []
        for await delivery in consumer.deliveries {
            outcomes.append(await eventConsumer.process(delivery))
            if outcomes.count == count { break }
        }
        await consumer.close()
        await publisher.close()
        return outcomes
    }

    @Test("a redelivered, already applied message changes nothing")
    func redeliveryIsAbsorbed() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let event = try fixture.envelope(aggregate: UUID(), version: 1)
            let body = Array(try event.encoded())
            let outcomes = try await deliver(
                fixture, bodies: [(event.id.uuidString, body), (event.id.uuidString, body)],
                handlers: [fixture.projectionHandler], outcomes: 2
            )
            #expect(outcomes == [.applied, .duplicate])
            #expect(try await TestEnvironment.count("SELECT sum(applied)::int8 FROM \(fixture.schema.table("projection"))", client) == 1)
            try await fixture.drop()
        }
    }

    @Test("a malformed body lands in <service>.dead with its x-error and x-failed-by")
    func malformedIsDeadLettered() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let outcomes = try await deliver(
                fixture, bodies: [("poison-1", Array("{not json".utf8))], handlers: [fixture.projectionHandler], outcomes: 1
            )
            guard case let .deadLettered(reason) = outcomes.first else {
                Issue.record("expected dead-lettering, got \(outcomes)")
                return
            }
            #expect(reason.contains("cannot decode"))
            let dead = try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
                let delivery = try channel.get(queue: CRMTopology.deadQueue(fixture.service))
                if let delivery { try channel.ack(delivery) }
                return delivery
            }
            let letter = try #require(dead)
            #expect(String(decoding: letter.body, as: UTF8.self) == "{not json")
            #expect(letter.properties.messageId == "poison-1")
            #expect(letter.properties.headers["x-error"]?.stringValue == reason)
            #expect(letter.properties.headers["x-failed-by"]?.stringValue == fixture.service)
            #expect(letter.properties.headers["x-original-routing-key"]?.stringValue == fixture.eventType)
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("inbox"))", client) == 0)
            try await fixture.drop()
        }
    }

    @Test("an event missing a required field is dead-lettered naming the field")
    func invalidEnvelopeNamesField() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let body = """
                {"id":"6c1f4a2e-4b6a-4d3e-9a55-0d4f0c8e9b11","type":"\(fixture.eventType)","version":1,
                 "producer":"p","aggregate_id":"6c1f4a2e-4b6a-4d3e-9a55-0d4f0c8e9b12","aggregate_version":1,
                 "correlation_id":"6c1f4a2e-4b6a-4d3e-9a55-0d4f0c8e9b13","causation_id":null,"data":{}}
                """
            let outcomes = try await deliver(
                fixture, bodies: [("bad-2", Array(body.utf8))], handlers: [fixture.projectionHandler], outcomes: 1
            )
            guard case let .deadLettered(reason) = outcomes.first else {
                Issue.record("expected dead-lettering, got \(outcomes)")
                return
            }
            #expect(reason.contains("missing field 'occurred_at'"))
            try await fixture.drop()
        }
    }

    @Test("a handler that fails twice and then succeeds is retried and applied once")
    func transientFailureIsRetried() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let attempts = Mutex(0)
            let projection = fixture.projectionHandler
            let flaky = EventHandler(type: fixture.eventType) { envelope, context in
                let attempt = attempts.withLock { $0 += 1; return $0 }
                // It writes before failing: the rollback must undo that and the inbox row together.
                try await projection.apply(envelope, context)
                if attempt <= 2 { throw TestFailure("database hiccup \(attempt)") }
            }
            let event = try fixture.envelope(aggregate: UUID(), version: 1)
            let outcomes = try await deliver(
                fixture, bodies: [(event.id.uuidString, Array(try event.encoded()))], handlers: [flaky], outcomes: 3
            )
            #expect(outcomes.count == 3)
            #expect(outcomes.last == .applied)
            #expect(outcomes.prefix(2).allSatisfy { if case .retried = $0 { true } else { false } })
            #expect(attempts.withLock { $0 } == 3)
            #expect(try await TestEnvironment.count("SELECT sum(applied)::int8 FROM \(fixture.schema.table("projection"))", client) == 1)
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("inbox"))", client) == 1)
            try await fixture.drop()
        }
    }

    @Test("an event version no handler supports is dead-lettered, not dropped")
    func unsupportedVersionIsDeadLettered() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            var event = try fixture.envelope(aggregate: UUID(), version: 1)
            event.version = 7
            let outcomes = try await deliver(
                fixture, bodies: [(event.id.uuidString, Array(try event.encoded()))],
                handlers: [fixture.projectionHandler], outcomes: 1
            )
            #expect(outcomes == [.deadLettered("unsupported version 7 of '\(fixture.eventType)'")])
            try await fixture.drop()
        }
    }
}

@Suite("Event consumer: batches", .serialized, .timeLimit(.minutes(2)))
struct ConsumerBatchTests {
    @Test("events that arrive together share a transaction; one that fails is isolated and the rest still apply")
    func failingEventInBatch() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let (good1, bad, good2) = (UUID(), UUID(), UUID())
            let projection = fixture.projectionHandler
            let handler = EventHandler(type: fixture.eventType) { envelope, context in
                try await projection.apply(envelope, context)
                if envelope.aggregateId == bad { throw PermanentEventError("refused aggregate \(bad)") }
            }
            let publisher = fixture.publisher()
            let consumer = fixture.consumer()
            try await fixture.waitUntilBound(consumer)
            for aggregate in [good1, bad, good2] {
                let event = try fixture.envelope(aggregate: aggregate, version: 1)
                try await publisher.publish(
                    OutgoingMessage(
                        exchange: CRMTopology.eventsExchange, routingKey: fixture.eventType, body: Array(try event.encoded()),
                        properties: MessageProperties(messageId: event.id.uuidString)
                    )
                )
            }
            let batch = await fixture.take(3, from: consumer)
            let eventConsumer = EventConsumer(
                service: fixture.service, schema: fixture.schema, client: client, consumer: consumer,
                publisher: publisher, handlers: [handler], logger: TestEnvironment.logger
            )
            await eventConsumer.process(batch: batch)

            let applied = try await client.query(
                PostgresQuery(unsafeSQL: "SELECT id FROM \(fixture.schema.table("projection")) ORDER BY id")
            ).decode(UUID.self).reduce(into: Set<UUID>()) { $0.insert($1) }
            #expect(applied == [good1, good2], "the refused event's write was rolled back")
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("inbox"))", client) == 2)
            let dead = try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
                try channel.get(queue: CRMTopology.deadQueue(fixture.service))
            }
            #expect(dead?.properties.headers["x-error"]?.stringValue == "refused aggregate \(bad)")
            await consumer.close()
            await publisher.close()
            try await fixture.drop()
        }
    }
}

extension ConsumerBatchTests {
    @Test("the same message twice in one batch is applied once")
    func duplicateInsideBatch() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let publisher = fixture.publisher()
            let consumer = fixture.consumer()
            try await fixture.waitUntilBound(consumer)
            let event = try fixture.envelope(aggregate: UUID(), version: 1)
            for _ in 0..<2 {
                try await publisher.publish(
                    OutgoingMessage(
                        exchange: CRMTopology.eventsExchange, routingKey: fixture.eventType, body: Array(try event.encoded())
                    )
                )
            }
            let batch = await fixture.take(2, from: consumer)
            let eventConsumer = EventConsumer(
                service: fixture.service, schema: fixture.schema, client: client, consumer: consumer,
                publisher: publisher, handlers: [fixture.projectionHandler], logger: TestEnvironment.logger
            )
            await eventConsumer.process(batch: batch)
            #expect(try await TestEnvironment.count("SELECT sum(applied)::int8 FROM \(fixture.schema.table("projection"))", client) == 1)
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("inbox"))", client) == 1)
            await consumer.close()
            await publisher.close()
            try await fixture.drop()
        }
    }
}

extension ConsumerBatchTests {
    @Test("two lanes whose batches lock the same rows in opposite orders both finish, each event applied once")
    func crossedLocks() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let (x, y) = (UUID(), UUID())
            try await client.query(
                PostgresQuery(
                    unsafeSQL: "INSERT INTO \(fixture.schema.table("projection")) (id, version) VALUES ($1, 0), ($2, 0)",
                    binds: try .of(x, y)
                )
            )
            // Each batch's first event takes its row and waits until the other batch has taken its
            // own: then each batch's second event wants the row the other holds.
            let bothHoldOne = Barrier(parties: 2)
            let projection = fixture.schema.table("projection")
            let handler = EventHandler(type: fixture.eventType) { envelope, context in
                guard case let .object(data) = envelope.data, case let .string(row) = data["row"] else {
                    throw PermanentEventError("no row")
                }
                try await context.connection.query(
                    PostgresQuery(unsafeSQL: "UPDATE \(projection) SET applied = applied + 1 WHERE id = $1::uuid", binds: try .of(row)),
                    logger: context.logger
                )
                if data["first"] == .bool(true) { await bothHoldOne.arrive() }
            }
            func event(row: UUID, first: Bool) -> EventEnvelope {
                EventEnvelope(
                    type: fixture.eventType, producer: fixture.service, aggregateId: UUID(), aggregateVersion: 1,
                    data: .object(["row": .string(row.uuidString), "first": .bool(first)])
                )
            }
            let batchA = [event(row: x, first: true), event(row: y, first: false)]
            let batchB = [event(row: y, first: true), event(row: x, first: false)]
            let publisher = fixture.publisher()
            let consumer = fixture.consumer()
            try await fixture.waitUntilBound(consumer)
            for envelope in batchA + batchB {
                try await publisher.publish(
                    OutgoingMessage(
                        exchange: CRMTopology.eventsExchange, routingKey: fixture.eventType, body: Array(try envelope.encoded()),
                        properties: MessageProperties(messageId: envelope.id.uuidString)
                    )
                )
            }
            var deliveries: [String: Delivery] = [:]
            for await delivery in consumer.deliveries {
                deliveries[delivery.properties.messageId ?? ""] = delivery
                if deliveries.count == 4 { break }
            }
            let eventConsumer = EventConsumer(
                service: fixture.service, schema: fixture.schema, client: client, consumer: consumer,
                publisher: publisher, handlers: [handler], lanes: 2, logger: TestEnvironment.logger
            )
            let laneA = batchA.compactMap { deliveries[$0.id.uuidString] }
            let laneB = batchB.compactMap { deliveries[$0.id.uuidString] }
            async let a: Void = eventConsumer.process(batch: laneA)
            async let b: Void = eventConsumer.process(batch: laneB)
            _ = await (a, b)

            var applied: [UUID: Int] = [:]
            for try await (id, count) in try await client.query(
                PostgresQuery(unsafeSQL: "SELECT id, applied FROM \(projection)")
            ).decode((UUID, Int).self) {
                applied[id] = count
            }
            #expect(applied == [x: 2, y: 2], "each event's write committed once")
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("inbox"))", client) == 4)
            let dead = try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
                try channel.get(queue: CRMTopology.deadQueue(fixture.service))
            }
            #expect(dead == nil, "nothing was dead-lettered")
            await consumer.close()
            await publisher.close()
            try await fixture.drop()
        }
    }
}

/// Opens once `parties` tasks have arrived; after that, arriving does not wait.
private actor Barrier {
    private let parties: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) {
        self.parties = parties
    }

    func arrive() async {
        arrived += 1
        guard arrived < parties else {
            for waiter in waiting { waiter.resume() }
            waiting = []
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}

extension ConsumerBatchTests {
    @Test("consecutive new events whose handlers apply together go in one call, in order; another type or a duplicate between them splits or skips")
    func appliedTogether() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let otherType = "\(fixture.service).other.changed"
            let calls = Mutex<[[UUID]]>([])
            let together = EventHandler.Together(group: "things") { envelopes, _ in
                calls.withLock { $0.append(envelopes.map(\.id)) }
            }
            let things = EventHandler(type: fixture.eventType, together: together)
            let others = EventHandler(type: otherType) { envelope, _ in calls.withLock { $0.append([envelope.id]) } }
            let publisher = fixture.publisher()
            let consumer = fixture.consumer(eventTypes: [fixture.eventType, otherType])
            try await fixture.waitUntilBound(consumer)
            let (a, b) = (UUID(), UUID())
            let a1 = try fixture.envelope(aggregate: a, version: 1)
            let a2 = try fixture.envelope(aggregate: a, version: 2)
            let other = EventEnvelope(type: otherType, producer: fixture.service, aggregateId: UUID(), aggregateVersion: 1, data: .object([:]))
            let b1 = try fixture.envelope(aggregate: b, version: 1)
            let b2 = try fixture.envelope(aggregate: b, version: 2)
            let sent = [a1, a2, other, b1, a1, b2]
            for event in sent {
                try await publisher.publish(
                    OutgoingMessage(exchange: CRMTopology.eventsExchange, routingKey: event.type, body: Array(try event.encoded()))
                )
            }
            let batch = await fixture.take(sent.count, from: consumer)
            let eventConsumer = EventConsumer(
                service: fixture.service, schema: fixture.schema, client: client, consumer: consumer,
                publisher: publisher, handlers: [things, others], logger: TestEnvironment.logger
            )
            await eventConsumer.process(batch: batch)
            #expect(calls.withLock { $0 } == [[a1.id, a2.id], [other.id], [b1.id, b2.id]])
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("inbox"))", client) == 5)
            await consumer.close()
            await publisher.close()
            try await fixture.drop()
        }
    }
}
