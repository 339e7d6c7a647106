import Foundation
import Logging

/// Runs a short synchronous conversation with the broker (browse or move dead letters, declare)
/// on a thread of its own, off Swift's cooperative pool.
public enum AMQPOneShot {
    public final class Channel {
        fileprivate let session: Session
        fileprivate init(session: Session) { self.session = session }

        public func declare(_ topology: Topology) throws(AMQPError) { try session.declare(topology) }

        /// basic.get without auto-ack; nil when the queue is empty.
        public func get(queue: String) throws(AMQPError) -> Delivery? {
            try session.get(queue: queue, generation: 1)
        }

        /// basic.consume, nothing more: whether the broker lets this user consume the queue.
        public func consume(queue: String) throws(AMQPError) { try session.consume(queue: queue) }

        public func deleteQueue(_ name: String) throws(AMQPError) { try session.deleteQueue(name) }
        public func deleteExchange(_ name: String) throws(AMQPError) { try session.deleteExchange(name) }

        public func ack(_ delivery: Delivery) throws(AMQPError) { try session.ack(delivery.deliveryTag) }

        /// Publishes and waits for the broker's confirm (slow, one round trip: for operator tools only).
        public func publishConfirmed(_ message: OutgoingMessage) throws(AMQPError) {
            try session.enableConfirmsOnce()
            try session.publish(message)
            while true {
                switch try session.nextEvent(generation: 1) {
                case .ack: return
                case .nack: throw .nacked(exchange: message.exchange, routingKey: message.routingKey)
                case let .returned(_, code, text):
                    throw .returned(
                        exchange: message.exchange, routingKey: message.routingKey, replyCode: code, replyText: text
                    )
                default: usleep(1000)
                }
            }
        }
    }

    public static func run<T: Sendable>(
        _ configuration: AMQPConfiguration, _ body: @escaping @Sendable (Channel) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let session = try Session.open(configuration)
                    defer { session.close() }
                    continuation.resume(returning: try body(Channel(session: session)))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }
}
