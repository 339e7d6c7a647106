import AMQP
import Foundation
import Testing
import TestSupport

@Suite("AMQP against the real broker", .serialized, .timeLimit(.minutes(2)))
struct PublishConsumeTests {
    /// A direct exchange and quorum queue of this test only.
    func topology(_ name: String) -> Topology {
        Topology(
            exchanges: [.init(name: "\(name).x", type: "direct")],
            queues: [.init(name: "\(name).q", arguments: ["x-queue-type": "quorum"])],
            bindings: [.init(queue: "\(name).q", exchange: "\(name).x", routingKey: "k")]
        )
    }

    @Test("publish with confirms, consume with ack: every message arrives with its properties")
    func roundTrip() async throws {
        let name = TestEnvironment.uniqueName("amqp")
        let consumer = AMQPConsumer(
            configuration: TestEnvironment.broker(), topology: topology(name), queues: ["\(name).q"], prefetch: 16,
            logger: TestEnvironment.logger
        )
        let publisher = AMQPPublisher(
            configuration: TestEnvironment.broker(), topology: topology(name), logger: TestEnvironment.logger
        )
        let messages = (0..<200).map { index in
            OutgoingMessage(
                exchange: "\(name).x", routingKey: "k", body: Array("message \(index)".utf8),
                properties: MessageProperties(
                    contentType: "text/plain", messageId: "id-\(index)", type: "test.kind",
                    headers: ["x-index": .int(Int64(index)), "x-note": "hello"]
                )
            )
        }
        let results = await publisher.publish(messages)
        #expect(results.allSatisfy { (try? $0.get()) != nil })

        var received: [Delivery] = []
        for await delivery in consumer.deliveries {
            received.append(delivery)
            consumer.ack(delivery)
            if received.count == messages.count { break }
        }
        #expect(received.map { String(decoding: $0.body, as: UTF8.self) } == (0..<200).map { "message \($0)" })
        let first = try #require(received.first)
        #expect(first.properties.messageId == "id-0")
        #expect(first.properties.type == "test.kind")
        #expect(first.properties.contentType == "text/plain")
        #expect(first.properties.persistent)
        #expect(first.properties.headers["x-index"] == .int(0))
        #expect(first.properties.headers["x-note"]?.stringValue == "hello")
        #expect(first.routingKey == "k")
        await consumer.close()
        await publisher.close()
        try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
            try channel.deleteQueue("\(name).q")
            try channel.deleteExchange("\(name).x")
        }
    }

    @Test("acks that arrive together settle exactly their deliveries, whether or not they are the oldest")
    func acksTogether() async throws {
        let name = TestEnvironment.uniqueName("amqp")
        let publisher = AMQPPublisher(
            configuration: TestEnvironment.broker(), topology: topology(name), logger: TestEnvironment.logger
        )
        let messages = (1...5).map { OutgoingMessage(exchange: "\(name).x", routingKey: "k", body: Array("m\($0)".utf8)) }
        #expect(await publisher.publish(messages).allSatisfy { (try? $0.get()) != nil })
        let consumer = AMQPConsumer(
            configuration: TestEnvironment.broker(), topology: topology(name), queues: ["\(name).q"], prefetch: 16,
            logger: TestEnvironment.logger
        )
        var received: [Delivery] = []
        for await delivery in consumer.deliveries {
            received.append(delivery)
            if received.count == 5 { break }
        }
        consumer.ack([received[0], received[1]])  // the two oldest: one ack for both
        consumer.ack([received[4], received[2]])  // not the oldest outstanding (m4 is): each on its own
        await consumer.close()  // m4, never acked, goes back to the queue

        let left = try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
            var bodies: [String] = []
            while let delivery = try channel.get(queue: "\(name).q") {
                bodies.append(String(decoding: delivery.body, as: UTF8.self))
                try channel.ack(delivery)
            }
            try channel.deleteQueue("\(name).q")
            try channel.deleteExchange("\(name).x")
            return bodies
        }
        #expect(left == ["m4"])
        await publisher.close()
    }

    @Test("a mandatory publish to a key no queue is bound to throws 'returned'")
    func unroutableThrows() async throws {
        let name = TestEnvironment.uniqueName("amqp")
        let publisher = AMQPPublisher(
            configuration: TestEnvironment.broker(), topology: topology(name), logger: TestEnvironment.logger
        )
        await #expect(throws: AMQPError.returned(exchange: "\(name).x", routingKey: "nobody", replyCode: 312, replyText: "NO_ROUTE")) {
            try await publisher.publish(OutgoingMessage(exchange: "\(name).x", routingKey: "nobody", body: [1]))
        }
        // The channel stays usable after a return.
        try await publisher.publish(OutgoingMessage(exchange: "\(name).x", routingKey: "k", body: [2]))
        await publisher.close()
        try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
            try channel.deleteQueue("\(name).q")
            try channel.deleteExchange("\(name).x")
        }
    }

    @Test("a login with a wrong password fails with an error naming user and vhost")
    func loginFailureIsNamed() async throws {
        var configuration = TestEnvironment.broker()
        configuration.password = "wrong"
        let error = try await #require(throws: AMQPError.self) {
            try await AMQPOneShot.run(configuration) { _ in () }
        }
        guard case let .loginFailed(user, vhost, _) = error else {
            Issue.record("expected loginFailed, got \(error)")
            return
        }
        #expect(user == configuration.user)
        #expect(vhost == configuration.virtualHost)
    }
}
