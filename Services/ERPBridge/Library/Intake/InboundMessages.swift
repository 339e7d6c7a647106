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

    /// Takes, all at once, the rows of messages new to the inbox from sources that may publish;
    /// true for each taken. The others were seen before or come from elsewhere: `claim` reads each.
    func claimNew(_ addresses: [Address], on connection: PostgresConnection) async throws -> [Bool] {
        var sql = SQLBuilder()
        sql.append("""
            WITH input AS (
                SELECT * FROM unnest(\(try sql.bind(addresses.map(\.source)))::text[], \(try sql.bind(addresses.map(\.messageId)))::text[],
                    \(try sql.bind(addresses.map(\.kind)))::text[]) WITH ORDINALITY AS m (source, message_id, kind, i)
            ), claimed AS (
                INSERT INTO \(table) (source, message_id, kind, result)
                SELECT source, message_id, kind, 'accepted' FROM input
                WHERE source IN (SELECT name FROM \(schema.table("sources")) WHERE removed_at IS NULL)
                ON CONFLICT DO NOTHING RETURNING source, message_id
            )
            SELECT input.i::int FROM input JOIN claimed USING (source, message_id)
            """)
        var taken = [Bool](repeating: false, count: addresses.count)
        for try await index in try await connection.query(sql.query, logger: logger).decode(Int.self) { taken[index - 1] = true }
        return taken
    }

    /// Appends to `sql` the statement that records the answers messages got, for a CTE of the
    /// statement that sends them.
    func appendFinish(_ answers: [(address: Address, result: InboundResult, orderId: UUID?, errors: [FieldError])], into sql: inout SQLBuilder)
        throws
    {
        let errors = try answers.map { $0.errors.isEmpty ? "null" : String(decoding: try JSONEncoder().encode($0.errors), as: UTF8.self) }
        let orders = answers.map { $0.orderId?.lowercased ?? "" }
        sql.append("""
            UPDATE \(table) m SET result = a.result, order_id = nullif(a.order_id, '')::uuid, errors = nullif(a.errors, 'null'::jsonb),
                received_at = now()
            FROM unnest(\(try sql.bind(answers.map(\.address.source)))::text[], \(try sql.bind(answers.map(\.address.messageId)))::text[],
                \(try sql.bind(answers.map(\.result.rawValue)))::text[], \(try sql.bind(orders))::text[], \(try sql.bind(errors))::jsonb[])
                AS a (source, message_id, result, order_id, errors)
            WHERE m.source = a.source AND m.message_id = a.message_id
            """)
    }

    /// Whether the source may publish: added and not removed.
    func isActive(_ source: String, on connection: PostgresConnection) async throws -> Bool {
        var sql = SQLBuilder()
        sql.append("SELECT 1 FROM \(schema.table("sources")) WHERE name = \(try sql.bind(source)) AND removed_at IS NULL")
        return try await connection.query(sql.query, logger: logger).collect().count > 0
    }
}
