import AMQP
import Foundation
import Messaging
import Testing
import TestSupport

/// Each service's broker user, as `compose/local.sh` provisions it from `switchboard broker
/// definitions`, may touch its own queue, publish under its own prefix, and nothing of the others.
@Suite("Broker users are limited to their own", .serialized, .timeLimit(.minutes(3)))
struct BrokerPermissionTests {
    static let services = LocalStack.services.map(\.name)

    func broker(as user: String) throws -> AMQPConfiguration {
        var configuration = TestEnvironment.broker("permission test as \(user)")
        configuration.user = user
        configuration.password = try LocalStack.password(of: user)
        return configuration
    }

    /// Whether the broker refuses `operation` as `user`: a refusal is ACCESS_REFUSED (403); any
    /// other failure is an error of the test, not an answer.
    func refused(as user: String, _ operation: @escaping @Sendable (AMQPOneShot.Channel) throws -> Void) async throws -> Bool {
        do {
            try await AMQPOneShot.run(try broker(as: user)) { channel in try operation(channel) }
            return false
        } catch {
            let text = "\(error)"
            guard text.contains("403") || text.contains("ACCESS_REFUSED") else { throw error }
            return true
        }
    }

    func event(_ type: String, producer: String) throws -> OutgoingMessage {
        let envelope = EventEnvelope(type: type, producer: producer, aggregateId: UUID(), aggregateVersion: 1, data: .object([:]))
        return OutgoingMessage(exchange: CRMTopology.eventsExchange, routingKey: type, body: Array(try envelope.encoded()))
    }

    @Test("every service is refused every operation on every other service's queue, and on dead letters")
    func othersQueues() async throws {
        for user in Self.services {
            for other in Self.services where other != user {
                let queue = CRMTopology.eventsQueue(other)
                let dead = CRMTopology.deadQueue(other)
                #expect(try await refused(as: user) { try $0.get(queue: queue).map { _ in } }, "\(user) reads \(queue)")
                #expect(try await refused(as: user) { try $0.consume(queue: queue) }, "\(user) consumes \(queue)")
                #expect(try await refused(as: user) { try $0.deleteQueue(queue) }, "\(user) deletes \(queue)")
                #expect(try await refused(as: user) { try $0.declare(Topology(queues: [.init(name: queue)])) }, "\(user) declares \(queue)")
                #expect(
                    try await refused(as: user) {
                        try $0.declare(Topology(bindings: [.init(queue: queue, exchange: CRMTopology.eventsExchange, routingKey: "\(user).#")]))
                    }, "\(user) binds \(queue)"
                )
                #expect(
                    try await refused(as: user) { try $0.publishConfirmed(OutgoingMessage(exchange: "", routingKey: queue, body: [])) },
                    "\(user) publishes into \(queue)"
                )
                #expect(try await refused(as: user) { try $0.get(queue: dead).map { _ in } }, "\(user) reads \(dead)")
            }
            let ownQueue = CRMTopology.eventsQueue(user)
            #expect(try await !refused(as: user) { _ = try $0.get(queue: ownQueue) }, "\(user) reads its own queue (so it did log in)")
            let ownDead = CRMTopology.deadQueue(user)
            #expect(try await refused(as: user) { try $0.get(queue: ownDead).map { _ in } }, "\(user) reads its own dead letters")
            #expect(try await refused(as: user) { try $0.deleteQueue(ownDead) }, "\(user) deletes its own dead letters")
        }
    }

    @Test("a service publishes under its own prefix only: an event forged with another's prefix, or its name where that is not its prefix, is refused by the broker")
    func ownPrefix() async throws {
        for user in Self.services {
            let own = try event("\(LocalStack.eventPrefix(of: user)).permission.checked", producer: LocalStack.eventPrefix(of: user))
            #expect(try await !refused(as: user) { try $0.publishConfirmed(own) }, "\(user) publishes its own event")
            if LocalStack.eventPrefix(of: user) != user {
                let named = try event("\(user).permission.checked", producer: user)
                #expect(try await refused(as: user) { try $0.publishConfirmed(named) }, "\(user) publishes under its name")
            }
            for other in Self.services where other != user {
                let forged = try event("\(LocalStack.eventPrefix(of: other)).contact.created", producer: LocalStack.eventPrefix(of: other))
                #expect(try await refused(as: user) { try $0.publishConfirmed(forged) }, "\(user) publishes as \(other)")
            }
        }
    }

    @Test("a service binds its queue to the event types it consumes, and to no other (contacts.# is personal data)")
    func bindings() async throws {
        let salesQueue = CRMTopology.eventsQueue("sales")
        #expect(
            try await !refused(as: "sales") {
                try $0.declare(Topology(bindings: [.init(queue: salesQueue, exchange: CRMTopology.eventsExchange, routingKey: "contacts.contact.created")]))
            }, "sales consumes contacts.contact.created"
        )
        for key in ["contacts.#", "contacts.interaction.logged", "#"] {
            #expect(
                try await refused(as: "sales") {
                    try $0.declare(Topology(bindings: [.init(queue: salesQueue, exchange: CRMTopology.eventsExchange, routingKey: key)]))
                }, "sales binds \(key)"
            )
        }
        // A queue of its own making is refused too: only `<service>.events` is its to configure.
        #expect(try await refused(as: "marketing") { try $0.declare(Topology(queues: [.init(name: "marketing.spy")])) })
    }
}
