/// What a service's RabbitMQ user may do (the user is named as the service): configure, read and
/// write its own `<service>.events` queue only; publish to `crm.events` under its own routing-key
/// prefix (its event prefix) and to `crm.dlx`; bind its queue to exactly the event types it consumes. Its dead-letter
/// queue, the exchanges and `crm.unrouted` are the operator's, and only the operator reads dead
/// letters. RabbitMQ checks every regex against the whole name; topic permissions apply to
/// topic exchanges: `write` to the routing key of a publish, `read` to a binding's. A service that
/// talks to outside systems (`BrokerExtras`) may also use its intake queue and their exchanges.
public struct BrokerAccess: Sendable, Equatable {
    public var configure: String
    public var write: String
    public var read: String
    public var topicWrite: String
    public var topicRead: String
    /// Topic permissions on exchanges other than `crm.events`, by exchange.
    public var otherTopics: [TopicPermission]

    public struct TopicPermission: Sendable, Equatable {
        public var exchange: String
        public var write: String
        public var read: String
        public init(exchange: String, write: String, read: String) {
            self.exchange = exchange
            self.write = write
            self.read = read
        }
    }

    public init(service: String, eventPrefix: String? = nil, consumes eventTypes: [String], extras: BrokerExtras = .none) {
        let own = ([CRMTopology.eventsQueue(service)] + extras.queues).map(Self.escaped).joined(separator: "|")
        let events = Self.escaped(CRMTopology.eventsExchange)
        let written = extras.writeExchanges.map { Self.escaped($0.exchange) }
        let read = extras.readExchanges.map { Self.escaped($0.exchange) }
        configure = "^(\(own))$"
        write = "^(\(([own, events, Self.escaped(CRMTopology.deadLetterExchange)] + written).joined(separator: "|")))$"
        self.read = "^(\(([own, events] + read).joined(separator: "|")))$"
        topicWrite = "^\(Self.escaped(eventPrefix ?? service))\\."
        topicRead = eventTypes.isEmpty ? "^$" : "^(\(eventTypes.sorted().map(Self.escaped).joined(separator: "|")))$"
        var topics: [String: TopicPermission] = [:]
        for (exchange, pattern) in extras.writeExchanges {
            topics[exchange, default: .init(exchange: exchange, write: "^$", read: "^$")].write = pattern
        }
        for (exchange, pattern) in extras.readExchanges {
            topics[exchange, default: .init(exchange: exchange, write: "^$", read: "^$")].read = pattern
        }
        otherTopics = topics.values.sorted { $0.exchange < $1.exchange }
    }

    public static func escaped(_ name: String) -> String {
        var result = ""
        for character in name {
            if "\\^$.|?*+()[]{}".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

/// A service's broker use beyond its events: queues of its own (an intake's), exchanges it binds
/// them to with the routing keys it may bind (a topic read regex), and exchanges it publishes to
/// with the routing keys it may use (a topic write regex).
public struct BrokerExtras: Sendable, Equatable {
    public var queues: [String]
    public var readExchanges: [(exchange: String, pattern: String)]
    public var writeExchanges: [(exchange: String, pattern: String)]

    public init(queues: [String] = [], readExchanges: [(exchange: String, pattern: String)] = [], writeExchanges: [(exchange: String, pattern: String)] = []) {
        self.queues = queues
        self.readExchanges = readExchanges
        self.writeExchanges = writeExchanges
    }

    public static let none = BrokerExtras()

    public static func == (lhs: BrokerExtras, rhs: BrokerExtras) -> Bool {
        lhs.queues == rhs.queues && lhs.readExchanges.elementsEqual(rhs.readExchanges, by: ==)
            && lhs.writeExchanges.elementsEqual(rhs.writeExchanges, by: ==)
    }
}
