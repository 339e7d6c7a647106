/// Exchanges, queues and bindings a connection declares every time it (re)connects.
public struct Topology: Sendable {
    public struct Exchange: Sendable {
        public var name: String
        public var type: String
        public var durable: Bool
        public var arguments: AMQPTable
        /// Only checked to exist (a passive declare), as a user without the right to configure an
        /// exchange another declared must: RabbitMQ refuses even an identical declare then.
        public var passive: Bool
        public init(name: String, type: String, durable: Bool = true, arguments: AMQPTable = [:], passive: Bool = false) {
            self.name = name
            self.type = type
            self.durable = durable
            self.arguments = arguments
            self.passive = passive
        }
    }

    public struct Queue: Sendable {
        public var name: String
        public var durable: Bool
        public var arguments: AMQPTable
        public init(name: String, durable: Bool = true, arguments: AMQPTable = [:]) {
            self.name = name
            self.durable = durable
            self.arguments = arguments
        }
    }

    public struct Binding: Sendable {
        public var queue: String
        public var exchange: String
        public var routingKey: String
        public init(queue: String, exchange: String, routingKey: String) {
            self.queue = queue
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]

    public init(exchanges: [Exchange] = [], queues: [Queue] = [], bindings: [Binding] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    public static let none = Topology()

    public func merged(with other: Topology) -> Topology {
        Topology(
            exchanges: exchanges + other.exchanges,
            queues: queues + other.queues,
            bindings: bindings + other.bindings
        )
    }
}
