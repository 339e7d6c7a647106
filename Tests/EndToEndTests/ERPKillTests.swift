import AMQP
import Foundation
import Messaging
import PostgresNIO
import Testing
import TestSupport

/// An ERP publishes 2,000 orders while a second erp-bridge replica, sharing the intake queue with
/// the suite's, is killed with SIGKILL: its deliveries in hand come back to the queue, the
/// survivor applies them, and the inbox makes each message one effect and one answer, whether
/// the killed replica's transaction had committed or not.
@Suite("ERP bridge killed mid-stream", .serialized, .timeLimit(.minutes(5)))
struct ERPKillTests {
    static let orders = 2_000

    @Test("SIGKILL of an erp-bridge replica while 2,000 orders are published: every order is there once, every message answered once")
    func killedWhilePublishing() async throws {
        let source = "kill_\(UUID().uuidString.prefix(6).lowercased())"
        try TestEnvironment.run("\(TestEnvironment.binPath)/switchboard", ["erp", "add-source", source])
        let port = 18_185
        let (replica, log) = try LocalStack.start("erp_bridge", executable: "erp-bridge", httpPort: port)
        defer { if replica.isRunning { kill(replica.processIdentifier, SIGKILL) } }
        let ready = try await TestEnvironment.eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            await LocalStack.status("http://127.0.0.1:\(port)/health/ready") == 200
        }
        try #require(ready, "the second replica became ready")

        // The ERP's orders, published with confirms by the operator's user in the source's name.
        let publisher = AMQPPublisher(configuration: TestEnvironment.broker("erp kill test"), logger: TestEnvironment.logger)
        defer { Task { await publisher.close() } }
        var killedAt: Int?
        for batch in stride(from: 0, to: Self.orders, by: 100) {
            let messages = (batch..<(batch + 100)).map { number in
                OutgoingMessage(
                    exchange: CRMTopology.erpInboundExchange, routingKey: "\(source).order", body: Self.order(number),
                    properties: MessageProperties(contentType: "application/json", persistent: true, messageId: "m-\(number)")
                )
            }
            for result in await publisher.publish(messages) { try result.get() }
            if batch >= 600, killedAt == nil, replica.isRunning {
                kill(replica.processIdentifier, SIGKILL)
                killedAt = batch + 100
            }
        }
        replica.waitUntilExit()
        #expect(killedAt != nil && replica.terminationReason == .uncaughtSignal, "the replica was killed mid-stream")

        try await TestEnvironment.withClient { admin in
            let stored = try await TestEnvironment.eventually(timeout: .seconds(120), every: .milliseconds(500)) {
                try await TestEnvironment.count("SELECT count(*)::int FROM erp_bridge.orders WHERE source = '\(source)'", admin) == Self.orders
            }
            #expect(stored, "every order is there")
            #expect(try await TestEnvironment.count(
                "SELECT count(DISTINCT order_number)::int FROM erp_bridge.orders WHERE source = '\(source)'", admin) == Self.orders)
            #expect(try await TestEnvironment.count(
                "SELECT count(*)::int FROM erp_bridge.inbound_messages WHERE source = '\(source)' AND result = 'accepted'", admin) == Self.orders)
            // Every answer the relay publishes is in the source's queue: one per message, accepted.
            var answers: [String: [String]] = [:]
            let drained = try await TestEnvironment.eventually(timeout: .seconds(60), every: .milliseconds(500)) {
                let taken = try await AMQPOneShot.run(TestEnvironment.broker("erp kill test reader")) { channel in
                    var taken: [(String, String)] = []
                    while let delivery = try channel.get(queue: CRMTopology.erpSourceQueue(source)) {
                        try channel.ack(delivery)
                        // The queue has the customers' master data too (a link for each new customer).
                        guard delivery.routingKey == "\(source).ack" else { continue }
                        let body = (try? JSONSerialization.jsonObject(with: Data(delivery.body))) as? [String: Any] ?? [:]
                        taken.append((body["message_id"] as? String ?? "?", body["result"] as? String ?? "?"))
                    }
                    return taken
                }
                for (id, result) in taken { answers[id, default: []].append(result) }
                return answers.count >= Self.orders
            }
            #expect(drained, "\(answers.count) of \(Self.orders) messages answered")
            let twice = answers.filter { $0.value.count != 1 }
            #expect(twice.isEmpty, "answered more than once: \(twice.prefix(5))")
            #expect(Set(answers.values.joined()) == ["accepted"])
        }
        try TestEnvironment.run("\(TestEnvironment.binPath)/switchboard", ["erp", "remove-source", source])
        _ = log
    }

    static func order(_ number: Int) -> [UInt8] {
        // Four orders a customer, each of its own amount: nothing here is suspicious.
        let customer = "K\(number % 500)"
        return Array("""
            {"order_number":"K-\(number)","version":1,"status":"placed","status_at":"2026-11-20T10:00:00Z",\
            "ordered_at":"2026-11-20T10:00:00Z","customer":{"erp_id":"\(customer)","name":"Kill Test \(customer)"},"currency":"EUR",\
            "lines":[{"line_no":1,"sku":"A","quantity":"1","line_total":"10.00"},{"line_no":2,"sku":"B","quantity":"2","line_total":"20.00"},\
            {"line_no":3,"sku":"C","quantity":"3","line_total":"\(30 + number).00"}],"totals":{"gross":"\(60 + number).00"}}
            """.utf8)
    }
}
