import AMQP
import Crypto
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// The intake's inbox (`inbound_messages`): each message of a source once, by the source's
/// message id, with the answer it got.
struct InboundMessages: ServiceStore {
    let service: ServiceDependencies

    var table: String { schema.table("inbound_messages") }

    /// Where a message came from and what it is: `<source>.<kind>` from its routing key, or, for a
    /// dead letter an operator replayed straight into the queue, from the key it first had.
    struct Address: Sendable {
        var source: String
        var kind: String
        var messageId: String

        init(_ delivery: Delivery) {
            let key = delivery.exchange == CRMTopology.erpInboundExchange
                ? delivery.routingKey : (delivery.properties.headers["x-original-routing-key"]?.stringValue ?? delivery.routingKey)
            let parts = key.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
            source = String(parts[0])
            kind = parts.count > 1 ? String(parts[1]) : ""
            // A message without an id is known by its body: the same body again is the same message.
            let given = delivery.properties.messageId?.trimmed ?? ""
            messageId = given.isEmpty
                ? "sha256:" + SHA256.hash(data: delivery.body).map { String(format: "%02x", $0) }.joined() : String(given.prefix(200))
        }
    }

    /// What the inbox knew of a message before this delivery.
    enum Claim: Sendable {
        case new
        case seen(result: InboundResult, orderId: UUID?, errors: [FieldError])
    }

    /// Takes the message's row, or reads (and locks) the one an earlier delivery left.
    func claim(_ address: Address, on connection: PostgresConnection) async throws -> Claim {
        var insert = SQLBuilder()
        insert.append("""
            INSERT INTO \(table) (source, message_id, kind, result)
            VALUES (\(try insert.bind(address.source)), \(try insert.bind(address.messageId)), \(try insert.bind(address.kind)), 'accepted')
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        if try await connection.query(insert.query, logger: logger).collect().count > 0 { return .new }
        var select = SQLBuilder()
        select.append("""
            SELECT result, order_id, coalesce(errors, '[]')::text FROM \(table)
            WHERE source = \(try select.bind(address.source)) AND message_id = \(try select.bind(address.messageId)) FOR UPDATE
            """)
        for try await (result, orderId, errors) in try await connection.query(select.query, logger: logger).decode((String, UUID?, String).self) {
            let decoded = (try? JSONDecoder().decode([FieldError].self, from: Data(errors.utf8))) ?? []
            return .seen(result: InboundResult(rawValue: result) ?? .accepted, orderId: orderId, errors: decoded)
        }
        throw MissingRow(statement: "inbound message \(address.source)/\(address.messageId)")
    }

    /// The answer the message got.
    func finish(_ address: Address, result: InboundResult, orderId: UUID?, errors: [FieldError], on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        let errorsJSON = errors.isEmpty ? nil : String(decoding: try JSONEncoder().encode(errors), as: UTF8.self)
        sql.append("""
            UPDATE \(table) SET result = \(try sql.bind(result.rawValue)), order_id = \(try sql.bind(orderId)),
                errors = \(try sql.bind(errorsJSON))::jsonb, received_at = now()
            WHERE source = \(try sql.bind(address.source)) AND message_id = \(try sql.bind(address.messageId))
            """)
        try await connection.query(sql.query, logger: logger)
    }

    /// Whether the source may publish: added and not removed.
    func isActive(_ source: String, on connection: PostgresConnection) async throws -> Bool {
        var sql = SQLBuilder()
        sql.append("SELECT 1 FROM \(schema.table("sources")) WHERE name = \(try sql.bind(source)) AND removed_at IS NULL")
        return try await connection.query(sql.query, logger: logger).collect().count > 0
    }
}
