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
        let received = Mutex(Set<Int>())
        let restarted = Mutex(false)

        let consuming = Task {
            for await delivery in consumer.deliveries {
                let index = Int(String(decoding: delivery.body, as: UTF8.self))!
                received.withLock { _ = $0.insert(index) }
                consumer.ack(delivery)
            }
        }
        // Publishes until the broker is back and 500 more went out after that, so the restart
        // always falls in the middle, however fast or slow this machine is.
        let publishing = Task {
            var index = 0
            var afterRestart = 0
            while afterRestart < 500 {
                let message = OutgoingMessage(exchange: "\(name).x", routingKey: "k", body: Array("\(index)".utf8))
                // What was not confirmed is sent again, as the outbox relay does.
                while true {
                    do {
                        try await publisher.publish(message)
                        break
                    } catch {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
                index += 1
                if restarted.withLock({ $0 }) { afterRestart += 1 }
                if index % 50 == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            return index
        }

        try await Task.sleep(for: .milliseconds(400))
        try TestEnvironment.run(TestEnvironment.rabbitmqctl, ["stop_app"])
        try await Task.sleep(for: .seconds(2))
        #expect(!publisher.isConnected)
        #expect(!consumer.isConnected)
        try TestEnvironment.run(TestEnvironment.rabbitmqctl, ["start_app"])
        try TestEnvironment.run(TestEnvironment.rabbitmqctl, ["await_startup"])
        restarted.withLock { $0 = true }

        // Publishes in flight at the stop failed and were sent again; those queued while the broker
        // was away went out after the reconnect. Both kinds must arrive.
        let total = try await publishing.value
        let done = try await TestEnvironment.eventually(timeout: .seconds(60)) {
            received.withLock { $0.count } == total
        }
        consuming.cancel()
        #expect(done, "received \(received.withLock { $0.count }) of \(total)")
        #expect(received.withLock { $0 } == Set(0..<total))
        #expect(publisher.isConnected)
        #expect(consumer.isConnected)
        await consumer.close()
        await publisher.close()
        try await AMQPOneShot.run(TestEnvironment.broker()) { channel in
            try channel.deleteQueue("\(name).q")
            try channel.deleteExchange("\(name).x")
        }
    }
}
