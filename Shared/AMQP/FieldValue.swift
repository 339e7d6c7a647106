/// A value in an AMQP field table (message headers, queue arguments).
public enum AMQPFieldValue: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case double(Double)
    case timestamp(UInt64)
    case bytes([UInt8])
    case array([AMQPFieldValue])
    case table([String: AMQPFieldValue])
    case void

    public var stringValue: String? {
        switch self {
        case let .string(s): s
        case let .bytes(b): String(decoding: b, as: UTF8.self)
        default: nil
        }
    }

    public var intValue: Int64? {
        if case let .int(i) = self { return i }
        return nil
    }
}

extension AMQPFieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

public typealias AMQPTable = [String: AMQPFieldValue]
