import Foundation

/// The message body of every event on `crm.events` (DESIGN.md §2). The routing key is `type`.
public struct EventEnvelope: Sendable, Hashable, Encodable {
    public var id: UUID
    public var type: String
    public var version: Int
    public var occurredAt: Date
    public var producer: String
    public var aggregateId: UUID
    public var aggregateVersion: Int64
    public var correlationId: UUID
    public var causationId: UUID?
    private var body: Body

    /// The event's document. An envelope decoded from a message keeps the message and builds
    /// this tree only when asked; a handler's `payload(as:)` decodes its type from the message.
    public var data: JSONValue {
        get {
            switch body {
            case let .value(value): value
            // The message was scanned as JSON when the envelope was decoded; what JSONValue cannot
            // hold (a number beyond a Double) reads as null here, and fails in payload(as:).
            case let .message(bytes): (try? Self.decoder.decode(Member<JSONValue>.self, from: bytes).data) ?? .null
            }
        }
        set { body = .value(newValue) }
    }

    // Made once and shared, rather than made and dropped again for every message.
    private static let decoder = EventCoding.decoder
    private static let encoder = EventCoding.encoder

    private enum Body: Sendable {
        case value(JSONValue)
        case message(Data)
    }

    public init(
        id: UUID = .timeOrdered(), type: String, version: Int = 1, occurredAt: Date = Date(), producer: String,
        aggregateId: UUID, aggregateVersion: Int64, correlationId: UUID? = nil, causationId: UUID? = nil,
        data: JSONValue
    ) {
        self.id = id
        self.type = type
        self.version = version
        self.occurredAt = occurredAt
        self.producer = producer
        self.aggregateId = aggregateId
        self.aggregateVersion = aggregateVersion
        self.correlationId = correlationId ?? id
        self.causationId = causationId
        body = .value(data)
    }

    /// Builds an envelope whose `data` is `payload` encoded with the wire coding.
    public init(
        id: UUID = .timeOrdered(), type: String, version: Int = 1, occurredAt: Date = Date(), producer: String,
        aggregateId: UUID, aggregateVersion: Int64, correlationId: UUID? = nil, causationId: UUID? = nil,
        payload: some Encodable
    ) throws {
        let data = try Self.decoder.decode(JSONValue.self, from: Self.encoder.encode(payload))
        self.init(
            id: id, type: type, version: version, occurredAt: occurredAt, producer: producer, aggregateId: aggregateId,
            aggregateVersion: aggregateVersion, correlationId: correlationId, causationId: causationId, data: data
        )
    }

    private enum CodingKeys: String, CodingKey {
        case id, type, version, producer, data
        case occurredAt = "occurred_at"
        case aggregateId = "aggregate_id"
        case aggregateVersion = "aggregate_version"
        case correlationId = "correlation_id"
        case causationId = "causation_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // UUIDs in lower case, as everywhere on the wire (Foundation would write upper case).
        try container.encode(id.uuidString.lowercased(), forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(version, forKey: .version)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(producer, forKey: .producer)
        try container.encode(aggregateId.uuidString.lowercased(), forKey: .aggregateId)
        try container.encode(aggregateVersion, forKey: .aggregateVersion)
        try container.encode(correlationId.uuidString.lowercased(), forKey: .correlationId)
        try container.encode(causationId?.uuidString.lowercased(), forKey: .causationId)  // explicit null, as the contract shows
        try container.encode(data, forKey: .data)
    }

    private init(header container: KeyedDecodingContainer<CodingKeys>, body: Body) throws {
        id = try container.decode(UUID.self, forKey: .id)
        type = try container.decode(String.self, forKey: .type)
        version = try container.decode(Int.self, forKey: .version)
        occurredAt = try container.decode(Date.self, forKey: .occurredAt)
        producer = try container.decode(String.self, forKey: .producer)
        aggregateId = try container.decode(UUID.self, forKey: .aggregateId)
        aggregateVersion = try container.decode(Int64.self, forKey: .aggregateVersion)
        correlationId = try container.decode(UUID.self, forKey: .correlationId)
        causationId = try container.decodeIfPresent(UUID.self, forKey: .causationId)
        self.body = body
    }

    public static func == (left: EventEnvelope, right: EventEnvelope) -> Bool {
        left.id == right.id && left.type == right.type && left.version == right.version && left.occurredAt == right.occurredAt
            && left.producer == right.producer && left.aggregateId == right.aggregateId
            && left.aggregateVersion == right.aggregateVersion && left.correlationId == right.correlationId
            && left.causationId == right.causationId && left.data == right.data
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(aggregateVersion)
    }

    /// Decodes `data` as a handler's payload type: from the message when the envelope came in one.
    public func payload<T: Decodable>(as type: T.Type) throws -> T {
        switch body {
        case let .message(bytes): try Self.decoder.decode(Member<T>.self, from: bytes).data
        case let .value(value): try Self.decoder.decode(T.self, from: Self.encoder.encode(value))
        }
    }

    public func encoded() throws -> Data { try Self.encoder.encode(self) }

    /// Decodes a message's envelope fields and keeps the message for `data`: a consumer decodes the
    /// document once, into its handler's payload type, rather than into a `JSONValue` tree first
    /// and then, encoded again, into that type.
    public static func decode(_ bytes: some Collection<UInt8>) throws -> EventEnvelope {
        let message = Data(bytes)
        var envelope = try Self.decoder.decode(Header.self, from: message).fields
        envelope.body = .message(message)
        return envelope
    }

    /// The envelope fields of a message, with `data` required but not decoded.
    private struct Header: Decodable {
        let fields: EventEnvelope

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard container.contains(.data) else {
                throw DecodingError.keyNotFound(
                    CodingKeys.data, .init(codingPath: container.codingPath, debugDescription: "the envelope has no data")
                )
            }
            fields = try EventEnvelope(header: container, body: .value(.null))
        }
    }

    /// The `data` member of an envelope, decoded as `Value`.
    private struct Member<Value: Decodable>: Decodable {
        let data: Value
    }
}

/// JSON as the wire wants it: RFC 3339 UTC timestamps with milliseconds, UUIDs in lower case.
public enum EventCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = parseTimestamp(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 timestamp: \(text)")
        }
        return decoder
    }

    public static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// An RFC 3339 timestamp with or without fractional seconds.
    public static func parseTimestamp(_ text: String) -> Date? {
        if let date = try? timestampStyle.parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// `2026-11-22T10:15:30.123Z`, rounded to the millisecond (the format style truncates, which
    /// would turn a decoded .123 into .122 on the way back out).
    public static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        if fraction < 0 {  // floor, not truncation, before 1970
            seconds -= 1
            fraction += 1000
        }
        let whole = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(Date.ISO8601FormatStyle())
        let millis = String(fraction)
        return "\(whole.dropLast())." + String(repeating: "0", count: 3 - millis.count) + millis + "Z"
    }
}
