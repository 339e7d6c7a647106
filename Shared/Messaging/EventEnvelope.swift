import Foundation

/// The message body of every event on `crm.events` (DESIGN.md §2). The routing key is `type`.
public struct EventEnvelope: Sendable, Hashable, Codable {
    public var id: UUID
    public var type: String
    public var version: Int
    public var occurredAt: Date
    public var producer: String
    public var aggregateId: UUID
    public var aggregateVersion: Int64
    public var correlationId: UUID
    public var causationId: UUID?
    public var data: JSONValue

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
        self.data = data
    }

    /// Builds an envelope whose `data` is `payload` encoded with the wire coding.
    public init(
        id: UUID = .timeOrdered(), type: String, version: Int = 1, occurredAt: Date = Date(), producer: String,
        aggregateId: UUID, aggregateVersion: Int64, correlationId: UUID? = nil, causationId: UUID? = nil,
        payload: some Encodable
    ) throws {
        let data = try EventCoding.decoder.decode(JSONValue.self, from: EventCoding.encoder.encode(payload))
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

    /// Decodes `data` as a handler's payload type.
    public func payload<T: Decodable>(as type: T.Type) throws -> T {
        try EventCoding.decoder.decode(T.self, from: EventCoding.encoder.encode(data))
    }

    public func encoded() throws -> Data { try EventCoding.encoder.encode(self) }

    public static func decode(_ bytes: some Collection<UInt8>) throws -> EventEnvelope {
        try EventCoding.decoder.decode(EventEnvelope.self, from: Data(bytes))
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
