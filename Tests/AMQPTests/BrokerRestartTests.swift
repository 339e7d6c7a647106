import AMQP
import Foundation
import Synchronization
import Testing
import TestSupport

@Suite("AMQP survives a broker restart", .serialized, .timeLimit(.minutes(2)))
struct BrokerRestartTests {
    @Test("stop_app and start_app while publishing and consuming: both reconnect and every message arrives")
    func restartWhileBusy() async throws {
        let name = TestEnvironment.uniqueName("restart")
        let topology = Topology(
            exchanges: [.init(name: "\(name).x", type: "direct")],
            queues: [.init(name: "\(name).q", arguments: ["x-queue-type": "quorum"])],
            bindings: [.init(queue: "\(name).q", exchange: "\(name).x", routingKey: "k")]
        )
        let publisher = AMQPPublisher(configuration: TestEnvironment.broker(), topology: topology, logger: TestEnvironment.logger)
        let consumer = AMQPConsumer(
            configuration: TestEnvironment.broker(), topology: topology, queues: ["\(name).q"], prefetch: 32,
            logger: TestEnvironment.logger
        )
        let total = 2_000
        let received = Mutex(Set<Int>())

        let consuming = Task {
            for await delivery in consumer.deliveries {
                let index = Int(String(decoding: delivery.body, as: UTF8.self))!
                let count = received.withLock { $0.insert(index); return $0.count }
                consumer.ack(delivery)
                if count == total { return }
            }
        }
        let publishing = Task {
            var failures = 0
            for index in 0..<total {
                let message = OutgoingMessage(exchange: "\(name).x", routingKey: "k", body: Array("\(index)".utf8))
                // What was not confirmed is sent again, as the outbox relay does.
                while true {
                    do {
                        try await publisher.publish(message)
                        break
                    } catch {
                        failures += 1
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                if index % 100 == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            return failures
        }

        try await Task.sleep(for: .milliseconds(400))
        try TestEnvironment.run(TestEnvironment.rabbitmqctl, ["stop_app"])
        try await Task.sleep(for: .seconds(2))
        #expect(!publisher.isConnected)
        try TestEnvironment.run(TestEnvironment.rabbitmqctl, ["start_app"])
        try TestEnvironment.run(TestEnvironment.rabbitmqctl, ["await_startup"])

        let failures = try await publishing.value
        let done = try await TestEnvironment.eventually(timeout: .seconds(60)) {
            received.withLock { $0.count } == total
        }
        consuming.cancel()
        #expect(done, "received \(received.withLock { $0.count }) of \(total)")
        #expect(received.withLock { $0 } == Set(0..<total))
        #expect(failures > 0, "the restart should have interrupted some publishes")
        #expect(publisher.isConnected)
        #expect(consumer.isConnected)
        await consumer.close()
        await publisher.close()
    }
}
