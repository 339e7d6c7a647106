import AMQP
import Foundation
@testable import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Messages no retry can mend go to `<service>.dead` on their first delivery, with the reason;
/// before, a database refusal was retried into the queue's delivery limit and dead-lettered by the
/// broker without `x-error`.
@Suite("Event consumer: what it refuses at once", .serialized, .timeLimit(.minutes(2)))
struct ConsumerRefusalTests {
    /// Publishes each (routing key, body) to `crm.events` and processes one delivery per message.
    func deliver(
        _ fixture: MessagingFixture, _ messages: [(routingKey: String, body: [UInt8])], handlers: [EventHandler],
        maximumEventBytes: Int = EventConsumer.defaultMaximumEventBytes
    ) async throws -> [EventConsumer.Outcome] {
        let publisher = fixture.publisher()
        let consumer = fixture.consumer()
        try await fixture.waitUntilBound(consumer)
        let eventConsumer = EventConsumer(
            service: fixture.service, schema: fixture.schema, client: fixture.client, consumer: consumer, publisher: publisher,
            handlers: handlers, maximumEventBytes: maximumEventBytes, logger: TestEnvironment.logger
        )
        for (routingKey, body) in messages {
            try await publisher.publish(OutgoingMessage(exchange: CRMTopology.eventsExchange, routingKey: routingKey, body: body))
        }
        var outcomes: [EventConsumer.Outcome] = []
        for await delivery in consumer.deliveries {
            outcomes.append(await eventConsumer.process(delivery))
            if outcomes.count == messages.count { break }
        }
        await consumer.close()
        await publisher.close()
        return outcomes
    }

    /// The dead letters of the fixture's service, taken off the queue.
    func deadLetters(_ fixture: MessagingFixture) async throws -> [Delivery] {
        try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
            var letters: [Delivery] = []
            while let delivery = try channel.get(queue: CRMTopology.deadQueue(fixture.service)) {
                try channel.ack(delivery)
                letters.append(delivery)
            }
            return letters
        }
    }

    func withFixture(_ body: (MessagingFixture) async throws -> Void) async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            try await body(fixture)
            try await fixture.drop()
        }
    }

    @Test("an event the database cannot store (NUL in a text) is dead-lettered on its first delivery, with the database's reason")
    func unstorable() async throws {
        try await withFixture { fixture in
            let notes = fixture.schema.table("notes")
            try await fixture.client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(notes) (note text)"))
            let handler = EventHandler(type: fixture.eventType) { envelope, context in
                guard case let .object(data) = envelope.data, case let .string(note)? = data["note"] else { return }
                try await context.connection.query(
                    PostgresQuery(unsafeSQL: "INSERT INTO \(notes) (note) VALUES ($1)", binds: try .of(note)), logger: context.logger
                )
            }
            var event = try fixture.envelope(aggregate: UUID(), version: 1)
            event.data = .object(["note": .string("J\u{0}rgen")])
            let outcomes = try await deliver(fixture, [(fixture.eventType, Array(try event.encoded()))], handlers: [handler])
            guard case let .deadLettered(reason)? = outcomes.first, outcomes.count == 1 else {
                Issue.record("expected one dead-lettering, got \(outcomes)")
                return
            }
            #expect(reason.contains("cannot store") && reason.contains("SQLSTATE 22"), "\(reason)")
            let letters = try await deadLetters(fixture)
            #expect(letters.count == 1)
            #expect(letters.first?.properties.headers["x-error"]?.stringValue == reason)
            #expect(letters.first?.properties.headers["x-failed-by"]?.stringValue == fixture.service)
            #expect([nil, .int(0)].contains(letters.first?.properties.headers["x-delivery-count"]), "dead-lettered on its first delivery, not retried")
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(notes)", fixture.client) == 0)
        }
    }

    @Test("an event larger than the limit is dead-lettered unread, with its size")
    func oversized() async throws {
        try await withFixture { fixture in
            var event = try fixture.envelope(aggregate: UUID(), version: 1)
            event.data = .object(["note": .string(String(repeating: "x", count: 5_000))])
            let outcomes = try await deliver(
                fixture, [(fixture.eventType, Array(try event.encoded()))], handlers: [fixture.projectionHandler], maximumEventBytes: 4_096
            )
            guard case let .deadLettered(reason)? = outcomes.first else {
                Issue.record("expected dead-lettering, got \(outcomes)")
                return
            }
            #expect(reason.contains("over the limit of 4096"), "\(reason)")
            #expect(try await deadLetters(fixture).first?.properties.headers["x-error"]?.stringValue == reason)
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("projection"))", fixture.client) == 0)
        }
    }

    @Test("an envelope naming another producer than its type's prefix, or another type than its routing key, is dead-lettered")
    func forged() async throws {
        try await withFixture { fixture in
            let aggregate = UUID()
            var otherProducer = try fixture.envelope(aggregate: aggregate, version: 1)
            otherProducer.producer = "contacts"
            var otherType = try fixture.envelope(aggregate: aggregate, version: 1)
            otherType.type = "\(fixture.service).thing.deleted"
            let outcomes = try await deliver(
                fixture, [(fixture.eventType, Array(try otherProducer.encoded())), (fixture.eventType, Array(try otherType.encoded()))],
                handlers: [fixture.projectionHandler]
            )
            #expect(outcomes.count == 2)
            guard case let .deadLettered(producerReason)? = outcomes.first, case let .deadLettered(typeReason)? = outcomes.last else {
                Issue.record("expected both dead-lettered, got \(outcomes)")
                return
            }
            #expect(producerReason.contains("the producer 'contacts' does not publish '\(fixture.eventType)'"), "\(producerReason)")
            #expect(typeReason.contains("is not its routing key"), "\(typeReason)")
            #expect(try await deadLetters(fixture).count == 2)
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("projection"))", fixture.client) == 0)
        }
    }

    struct Broken: Error, CustomStringConvertible {
        var description: String { "the handler is broken" }
    }

    @Test("a failure no retry mends is dead-lettered with its reason on the last delivery the queue allows, not by the broker without one")
    func lastDelivery() async throws {
        try await withFixture { fixture in
            let handler = EventHandler(type: fixture.eventType) { _, _ in throw Broken() }
            let publisher = fixture.publisher()
            let consumer = fixture.consumer()
            try await fixture.waitUntilBound(consumer)
            let eventConsumer = EventConsumer(
                service: fixture.service, schema: fixture.schema, client: fixture.client, consumer: consumer, publisher: publisher,
                handlers: [handler], logger: TestEnvironment.logger
            )
            let event = try fixture.envelope(aggregate: UUID(), version: 1)
            try await publisher.publish(OutgoingMessage(exchange: CRMTopology.eventsExchange, routingKey: fixture.eventType, body: Array(try event.encoded())))
            var outcomes: [EventConsumer.Outcome] = []
            for await delivery in consumer.deliveries {
                let outcome = await eventConsumer.process(delivery)
                outcomes.append(outcome)
                if case .deadLettered = outcome { break }
                if outcomes.count == 10 { break }
            }
            await consumer.close()
            await publisher.close()
            #expect(outcomes.count == Int(CRMTopology.defaultDeliveryLimit), "\(outcomes)")
            #expect(outcomes.dropLast().allSatisfy { if case .retried = $0 { true } else { false } })
            guard case let .deadLettered(reason)? = outcomes.last else {
                Issue.record("expected dead-lettering on the last delivery, got \(outcomes)")
                return
            }
            #expect(reason.contains("failed on each of its 5 deliveries") && reason.contains("the handler is broken"), "\(reason)")
            #expect(try await deadLetters(fixture).first?.properties.headers["x-error"]?.stringValue == reason)
        }
    }
}
