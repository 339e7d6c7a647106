import AMQP
import Foundation
import PostgresNIO
import Storage

/// An outbox row as the relay reads it, and the AMQP message it becomes (DESIGN.md §2 properties).
struct OutboxRecord: Sendable {
    var seq: Int64
    var id: UUID
    var type: String
    var payload: [UInt8]
    var correlationId: UUID
    var eventVersion: Int
    var createdAt: Date
    /// Set for a message to an outside system (`Outbox.append(_:OutboundMessage…)`).
    var exchange: String?
    var routingKey: String?

    /// The oldest unpublished rows but those in `excluded` (sent, their mark not yet committed),
    /// prepared once on the leader's connection, whose `search_path` is the outbox's schema (a
    /// prepared statement's text is fixed, and a schema name cannot be bound). Sent unprepared,
    /// parsing and planning it took 0.4 ms against 0.03 ms to run it, at every wake-up.
    /// `NOT IN` a subquery, which PostgreSQL hashes, rather than `<> ALL`, which compares each row
    /// with every excluded `seq`: 25 ms against 1.4 ms with two batches of 1,000 in flight.
    struct SelectUnpublished: PostgresPreparedStatement {
        static let sql = """
            SELECT seq, id, type, payload::text, coalesce(correlation_id, id), event_version, created_at, exchange, routing_key
            FROM outbox WHERE published_at IS NULL AND seq NOT IN (SELECT unnest($1::int8[])) ORDER BY seq LIMIT $2
            """
        typealias Row = OutboxRecord

        var excluded: [Int64]
        var limit: Int64

        func makeBindings() throws -> PostgresBindings { try .of(excluded, limit) }

        func decodeRow(_ row: PostgresRow) throws -> OutboxRecord {
            let (seq, id, type, payload, correlation, version, createdAt, exchange, routingKey) = try row.decode(
                (Int64, UUID, String, ByteBuffer, UUID, Int, Date, String?, String?).self
            )
            return OutboxRecord(
                seq: seq, id: id, type: type, payload: Array(payload.readableBytesView), correlationId: correlation,
                eventVersion: version, createdAt: createdAt, exchange: exchange, routingKey: routingKey
            )
        }
    }

    /// Marks rows published, prepared on the leader's connection as `SelectUnpublished` is.
    struct MarkPublished: PostgresPreparedStatement {
        static let sql = "UPDATE outbox SET published_at = now() WHERE seq = ANY($1)"
        typealias Row = ()

        var seqs: [Int64]

        func makeBindings() throws -> PostgresBindings { try .of(seqs) }
        func decodeRow(_ row: PostgresRow) throws {}
    }

    func message(producer: String) -> OutgoingMessage {
        if let exchange, let routingKey {
            return OutgoingMessage(
                exchange: exchange, routingKey: routingKey, body: payload,
                properties: MessageProperties(
                    contentType: "application/json", persistent: true, messageId: Self.lowercase(id), type: type,
                    timestamp: createdAt, correlationId: Self.lowercase(correlationId), appId: producer
                ),
                mandatory: true
            )
        }
        return .event(
            id: id, type: type, body: payload, correlationId: correlationId, eventVersion: eventVersion,
            occurredAt: createdAt, producer: producer
        )
    }

    /// W3C trace context derived from the correlation id (trace) and the event id (span), so a chain
    /// of events caused by one request shares one trace. Written byte by byte: Foundation's
    /// `replacingOccurrences` took 30% of the relay's CPU.
    static func traceparent(correlation: UUID, span: UUID) -> String {
        var text: [UInt8] = Array("00-".utf8)
        text.reserveCapacity(55)
        appendHex(of: correlation, bytes: 16, dashes: false, to: &text)
        text.append(UInt8(ascii: "-"))
        appendHex(of: span, bytes: 8, dashes: false, to: &text)
        text.append(contentsOf: "-01".utf8)
        return String(decoding: text, as: UTF8.self)
    }

    /// The UUID as PostgreSQL prints it, lowercase with dashes.
    static func lowercase(_ uuid: UUID) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(36)
        appendHex(of: uuid, bytes: 16, dashes: true, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendHex(of uuid: UUID, bytes count: Int, dashes: Bool, to text: inout [UInt8]) {
        withUnsafeBytes(of: uuid.uuid) { bytes in
            for index in 0..<count {
                if dashes, [4, 6, 8, 10].contains(index) { text.append(UInt8(ascii: "-")) }
                text.append(hexDigits[Int(bytes[index] >> 4)])
                text.append(hexDigits[Int(bytes[index] & 0x0f)])
            }
        }
    }
}

extension OutgoingMessage {
    /// An event as the relay publishes it to `crm.events`: the properties and headers of DESIGN.md
    /// §2, persistent and `mandatory`. Public so that `bench messaging` publishes the very same
    /// messages without the outbox as its like-for-like raw figure.
    public static func event(
        id: UUID, type: String, body: [UInt8], correlationId: UUID, eventVersion: Int, occurredAt: Date, producer: String
    ) -> OutgoingMessage {
        OutgoingMessage(
            exchange: CRMTopology.eventsExchange,
            routingKey: type,
            body: body,
            properties: MessageProperties(
                contentType: "application/json",
                persistent: true,
                messageId: OutboxRecord.lowercase(id),
                type: type,
                timestamp: occurredAt,
                correlationId: OutboxRecord.lowercase(correlationId),
                appId: producer,
                headers: [
                    "x-event-version": .int(Int64(eventVersion)),
                    "traceparent": .string(OutboxRecord.traceparent(correlation: correlationId, span: id)),
                ]
            ),
            mandatory: true
        )
    }
}
