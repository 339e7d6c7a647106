import Foundation
import Logging
import PostgresNIO
import Storage

/// Appends events to a schema's outbox inside the caller's transaction, so the state change and its
/// events commit together; the `NOTIFY` it sends is delivered at commit and wakes the relay.
public struct Outbox: Sendable {
    public let schema: SchemaName

    public init(schema: SchemaName) {
        self.schema = schema
    }

    public var notificationChannel: String { "outbox_\(schema.rawValue)" }

    /// Call on a connection inside a transaction (`PostgresClient.transaction`).
    public func append(_ events: [EventEnvelope], on connection: PostgresConnection, logger: Logger) async throws {
        guard !events.isEmpty else { return }
        var ids: [UUID] = []
        var types: [String] = []
        var aggregates: [UUID] = []
        var versions: [Int64] = []
        var payloads: [String] = []
        var headers: [String] = []
        var correlations: [UUID] = []
        var eventVersions: [Int32] = []
        for event in events {
            ids.append(event.id)
            types.append(event.type)
            aggregates.append(event.aggregateId)
            versions.append(event.aggregateVersion)
            payloads.append(String(decoding: try event.encoded(), as: UTF8.self))
            headers.append(#"{"x-event-version": \#(event.version)}"#)
            correlations.append(event.correlationId)
            eventVersions.append(Int32(event.version))
        }
        // The NOTIFY rides in the same statement: one round trip fewer in every writing transaction.
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    WITH appended AS (
                        INSERT INTO \(schema.table("outbox"))
                            (id, type, aggregate_id, aggregate_version, payload, headers, correlation_id, event_version)
                        SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::int8[], $5::text[]::json[],
                            $6::text[]::jsonb[], $7::uuid[], $8::int4[])
                    )
                    SELECT pg_notify($9, '')
                    """,
                binds: try .of(ids, types, aggregates, versions, payloads, headers, correlations, eventVersions, notificationChannel)
            ),
            logger: logger
        )
    }

    /// Appends to `sql` a statement that writes one event per row of `source`, a query (or a
    /// data-modifying CTE's name) giving `aggregate_id uuid, aggregate_version bigint, data jsonb`.
    /// The envelope is built in the database, so a batch's state never passes through this
    /// process to become events. Join the statement's result with `notification` to wake the relay.
    public func appendEvents(from source: String, type: String, producer: String, into sql: inout SQLBuilder) throws {
        try appendEvents(from: source, typeExpression: "\(try sql.bind(type))::text", producer: producer, into: &sql)
    }

    /// The same, for rows of many kinds: `source` gives each event's type in a column `type`.
    public func appendEvents(fromTyped source: String, producer: String, into sql: inout SQLBuilder) throws {
        try appendEvents(from: source, typeExpression: "e.type", producer: producer, into: &sql)
    }

    private func appendEvents(from source: String, typeExpression type: String, producer: String, into sql: inout SQLBuilder) throws {
        sql.append("""
            INSERT INTO \(schema.table("outbox")) (id, type, aggregate_id, aggregate_version, payload, headers, correlation_id, event_version)
            SELECT e.event_id, \(type), e.aggregate_id, e.aggregate_version,
                \(schema.quoted).outbox_envelope(e.event_id, \(type), \(try sql.bind(producer))::text,
                    e.aggregate_id, e.aggregate_version, e.data, clock_timestamp()),
                '{"x-event-version": 1}'::jsonb, e.event_id, 1
            FROM (SELECT \(schema.quoted).time_ordered_uuid() AS event_id, s.* FROM \(source) AS s) AS e
            """)
    }

    /// A one-row FROM item that sends the `NOTIFY` waking the relay at commit: joined into the
    /// statement that writes the events, it spares the round trip of a statement of its own.
    public func notification(into sql: inout SQLBuilder) throws -> String {
        "(SELECT pg_notify(\(try sql.bind(notificationChannel)), '')) AS notified"
    }

    public func append(_ event: EventEnvelope, on connection: PostgresConnection, logger: Logger) async throws {
        try await append([event], on: connection, logger: logger)
    }

    /// Appends messages for outside systems, published by the relay like events (in order, with
    /// confirms) but to their own exchange and routing key, each body as it is.
    public func append(_ messages: [OutboundMessage], on connection: PostgresConnection, logger: Logger) async throws {
        guard !messages.isEmpty else { return }
        var sql = SQLBuilder()
        sql.append("WITH appended AS (")
        try appendMessages(messages, into: &sql)
        sql.append(") SELECT 1 FROM \(try notification(into: &sql))")
        try await connection.query(sql.query, logger: logger)
    }

    /// Appends to `sql` the statement that writes `messages`, for a data-modifying CTE of a
    /// statement that also writes what they report. Join it with `notification` to wake the relay.
    public func appendMessages(_ messages: [OutboundMessage], into sql: inout SQLBuilder) throws {
        sql.append("""
            INSERT INTO \(schema.table("outbox")) (id, type, aggregate_id, aggregate_version, payload, correlation_id, exchange, routing_key)
            SELECT id, type, id, 0, payload, correlation, exchange, key
            FROM unnest(\(try sql.bind(messages.map(\.id)))::uuid[], \(try sql.bind(messages.map(\.type)))::text[],
                \(try sql.bind(messages.map(\.body)))::text[]::json[], \(try sql.bind(messages.map(\.correlationId)))::uuid[],
                \(try sql.bind(messages.map(\.exchange)))::text[], \(try sql.bind(messages.map(\.routingKey)))::text[])
                AS m (id, type, payload, correlation, exchange, key)
            """)
    }
}

/// A message for an outside system that commits with the state it reports (`Outbox.append`).
public struct OutboundMessage: Sendable, Hashable {
    public var id: UUID
    public var exchange: String
    public var routingKey: String
    /// The AMQP `type` property: what the message is (`erp.ack`).
    public var type: String
    /// JSON text, the whole body.
    public var body: String
    public var correlationId: UUID

    public init(id: UUID = .timeOrdered(), exchange: String, routingKey: String, type: String, body: String, correlationId: UUID? = nil) {
        self.id = id
        self.exchange = exchange
        self.routingKey = routingKey
        self.type = type
        self.body = body
        self.correlationId = correlationId ?? id
    }
}
