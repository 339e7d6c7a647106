/// What a service's RabbitMQ user may do (the user is named as the service): configure, read and
/// write its own `<service>.events` queue only; publish to `crm.events` under its own routing-key
/// prefix (its event prefix) and to `crm.dlx`; bind its queue to exactly the event types it consumes. Its dead-letter
/// queue, the exchanges and `crm.unrouted` are the operator's, and only the operator reads dead
/// letters. RabbitMQ checks every regex against the whole name; topic permissions apply to
/// `crm.events`, a topic exchange: `write` to the routing key of a publish, `read` to a binding's.
public struct BrokerAccess: Sendable, Equatable {
    public var configure: String
    public var write: String
    public var read: String
    public var topicWrite: String
    public var topicRead: String

    public init(service: String, eventPrefix: String? = nil, consumes eventTypes: [String]) {
        let own = Self.escaped(CRMTopology.eventsQueue(service))
        let events = Self.escaped(CRMTopology.eventsExchange)
        configure = "^\(own)$"
        write = "^(\(own)|\(events)|\(Self.escaped(CRMTopology.deadLetterExchange)))$"
        read = "^(\(own)|\(events))$"
        topicWrite = "^\(Self.escaped(eventPrefix ?? service))\\."
        topicRead = eventTypes.isEmpty ? "^$" : "^(\(eventTypes.sorted().map(Self.escaped).joined(separator: "|")))$"
    }

    static func escaped(_ name: String) -> String {
        var result = ""
        for character in name {
            if "\\^$.|?*+()[]{}".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }
}
