import AMQP
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Storage

/// Waits out a database that does not answer, for the consumers: a lost connection or a database
/// that is down is no fault of the message, so the delivery stays in hand rather than go back to
/// the queue, where each return counts toward the delivery limit that dead-letters it.
struct DatabasePatience: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// Runs `attempt` until the database answers it. Gives up at shutdown, leaving the message for
    /// redelivery, and when the database answers everyone else but this attempt keeps losing its
    /// connection (a statement that ends its backend), which is then the message's fault after all.
    func untilTheDatabaseAnswers<T>(_ attempt: () async throws -> T) async throws -> T {
        var failures = 0
        var failuresWhileAnswering = 0
        while true {
            do {
                return try await attempt()
            } catch where DatabaseFault.kind(of: error) == .connectivity && !Task.isShuttingDownGracefully && !Task.isCancelled {
                if await databaseAnswers() {
                    failuresWhileAnswering += 1
                    if failuresWhileAnswering >= 3 { throw error }
                }
                failures += 1
                if failures == 1 || failures.isMultiple(of: 20) {
                    logger.warning("the database does not answer; the messages wait in hand", metadata: ["attempts": "\(failures)", "error": "\(DatabaseFault.reason(error))"])
                }
                let pause = min(Duration.milliseconds(100) * (1 << min(failures, 6)), .seconds(5))
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            }
        }
    }

    private func databaseAnswers() async -> Bool {
        let (client, logger) = (client, logger)
        return (try? await abandonable(limit: .seconds(2)) {
            try await client.read(logger: logger) { try await $0.query("SELECT 1", logger: logger) }
        }) != nil
    }
}

extension OutgoingMessage {
    /// A delivery on its way to `crm.dlx` under the failing service's key, with why and where from.
    static func deadLetter(of delivery: Delivery, reason: String, failedBy service: String, headers extra: AMQPTable = [:]) -> OutgoingMessage {
        var properties = delivery.properties
        properties.headers["x-error"] = .string(reason)
        properties.headers["x-failed-by"] = .string(service)
        // A replayed message comes through the default exchange: where it first came from stays.
        if !delivery.exchange.isEmpty || properties.headers["x-original-exchange"] == nil {
            properties.headers["x-original-exchange"] = .string(delivery.exchange)
            properties.headers["x-original-routing-key"] = .string(delivery.routingKey)
        }
        properties.headers["x-failed-at"] = .string(Date().formatted(.iso8601))
        for (name, value) in extra { properties.headers[name] = value }
        return OutgoingMessage(
            exchange: CRMTopology.deadLetterExchange, routingKey: service, body: delivery.body, properties: properties, mandatory: true
        )
    }
}

extension Delivery {
    /// 100 ms, doubling with each earlier delivery of the message, at most 5 s.
    func backOff() async {
        let attempts = max(deliveryCount, redelivered ? 1 : 0)
        try? await Task.sleep(for: min(.milliseconds(100) * (1 << Int(min(attempts, 6))), .seconds(5)))
    }
}
