import AMQP
import Foundation
import PostgresNIO
import Storage

/// An outbox row as the relay reads it, and the AMQP message it becomes (DESIGN.md §2 properties).
struct OutboxRecord: Sendable {
    var seq: Int64
    var id: UUID
    var type: String
    var payload: String
    var correlationId: String
    var eventVersion: Int
    var createdAt: Date

    /// The oldest unpublished rows but those in `excluded` (sent, their mark not yet committed).
    /// `NOT IN` a subquery, which PostgreSQL hashes, rather than `<> ALL`, which compares each row
    /// with every excluded `seq`: 25 ms against 1.4 ms with two batches of 1,000 in flight.
    static func selectUnpublished(_ schema: SchemaName, excluding excluded: [Int64], limit: Int) throws -> PostgresQuery {
        PostgresQuery(
            unsafeSQL: """
                SELECT seq, id, type, payload::text, coalesce(correlation_id, id)::text, event_version, created_at
                FROM \(schema.table("outbox"))
                WHERE published_at IS NULL AND seq NOT IN (SELECT unnest($1::int8[])) ORDER BY seq LIMIT \(limit)
                """,
            binds: try .of(excluded)
        )
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [OutboxRecord] {
        var records: [OutboxRecord] = []
        for try await (seq, id, type, payload, correlation, version, createdAt) in rows.decode(
            (Int64, UUID, String, String, String, Int, Date).self
        ) {
            records.append(
                OutboxRecord(
                    seq: seq, id: id, type: type, payload: payload, correlationId: correlation, eventVersion: version,
                    createdAt: createdAt
                )
            )
        }
        return records
    }

    func message(producer: String) -> OutgoingMessage {
        OutgoingMessage(
            exchange: CRMTopology.eventsExchange,
            routingKey: type,
            body: Array(payload.utf8),
            properties: MessageProperties(
                contentType: "application/json",
                persistent: true,
                messageId: id.uuidString.lowercased(),
                type: type,
                timestamp: createdAt,
                correlationId: correlationId,
                appId: producer,
                headers: [
                    "x-event-version": .int(Int64(eventVersion)),
                    "traceparent": .string(Self.traceparent(correlation: correlationId, span: id)),
                ]
            ),
            mandatory: true
        )
    }

    /// W3C trace context derived from the correlation id (trace) and the event id (span), so a chain
    /// of events caused by one request shares one trace.
    static func traceparent(correlation: String, span: UUID) -> String {
        let trace = correlation.lowercased().replacingOccurrences(of: "-", with: "")
        let parent = String(span.uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))
        return "00-\(trace)-\(parent)-01"
    }
}
