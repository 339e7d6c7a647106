import struct Foundation.Date

/// The basic-class properties Switchboard sets and reads.
public struct MessageProperties: Sendable, Equatable {
    public var contentType: String?
    public var persistent: Bool
    public var messageId: String?
    public var type: String?
    public var timestamp: Date?
    public var correlationId: String?
    public var appId: String?
    public var headers: AMQPTable

    public init(
        contentType: String? = nil,
        persistent: Bool = true,
        messageId: String? = nil,
        type: String? = nil,
        timestamp: Date? = nil,
        correlationId: String? = nil,
        appId: String? = nil,
        headers: AMQPTable = [:]
    ) {
        self.contentType = contentType
        self.persistent = persistent
        self.messageId = messageId
        self.type = type
        self.timestamp = timestamp
        self.correlationId = correlationId
        self.appId = appId
        self.headers = headers
    }
}

/// A message to publish. `mandatory` makes an unroutable message fail instead of vanishing.
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: MessageProperties
    public var mandatory: Bool

    public init(
        exchange: String, routingKey: String, body: [UInt8],
        properties: MessageProperties = .init(), mandatory: Bool = true
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}

/// A message the broker delivered; settle it with the consumer's `ack` or `nack`.
public struct Delivery: Sendable {
    public var exchange: String
    public var routingKey: String
    public var redelivered: Bool
    public var body: [UInt8]
    public var properties: MessageProperties
    public var deliveryTag: UInt64
    /// Which connection delivered it: a tag is meaningless on any other connection.
    public var connectionGeneration: Int

    /// The consumer makes them; a test makes one to hand to a consumer or an intake directly.
    public init(
        exchange: String, routingKey: String, redelivered: Bool = false, body: [UInt8], properties: MessageProperties = .init(),
        deliveryTag: UInt64 = 0, connectionGeneration: Int = 0
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.body = body
        self.properties = properties
        self.deliveryTag = deliveryTag
        self.connectionGeneration = connectionGeneration
    }

    /// How often the broker has handed this message out before (quorum queues count it).
    public var deliveryCount: Int64 {
        properties.headers["x-delivery-count"]?.intValue ?? 0
    }
}
