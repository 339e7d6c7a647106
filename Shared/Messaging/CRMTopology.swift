import AMQP

/// The broker objects of DESIGN.md §2, declared identically by every service.
public enum CRMTopology {
    public static let eventsExchange = "crm.events"
    public static let deadLetterExchange = "crm.dlx"
    /// Events no queue is bound to yet land here (the alternate exchange of `crm.events`), so a
    /// publish of a type nobody consumes is confirmed instead of returned and retried forever.
    public static let unroutedExchange = "crm.unrouted"
    public static let unroutedQueue = "crm.unrouted"

    public static func eventsQueue(_ service: String) -> String { "\(service).events" }
    public static func deadQueue(_ service: String) -> String { "\(service).dead" }

    /// What a publisher needs: the exchanges.
    public static var exchanges: Topology {
        Topology(
            exchanges: [
                .init(name: unroutedExchange, type: "fanout"),
                .init(name: eventsExchange, type: "topic", arguments: ["alternate-exchange": .string(unroutedExchange)]),
                .init(name: deadLetterExchange, type: "direct"),
            ],
            queues: [
                .init(
                    name: unroutedQueue,
                    arguments: ["x-max-length": 100_000, "x-overflow": "drop-head", "x-message-ttl": 604_800_000]
                )
            ],
            bindings: [.init(queue: unroutedQueue, exchange: unroutedExchange, routingKey: "")]
        )
    }

    /// A consuming service's queues: `<service>.events` (quorum, delivery limit, dead-letters to
    /// `crm.dlx` under the service's own key) bound to the event types it handles, and `<service>.dead`.
    public static func consumer(service: String, eventTypes: [String], deliveryLimit: Int64 = 5) -> Topology {
        let events = eventsQueue(service)
        let dead = deadQueue(service)
        return exchanges.merged(
            with: Topology(
                queues: [
                    .init(
                        name: events,
                        arguments: [
                            "x-queue-type": "quorum",
                            "x-delivery-limit": .int(deliveryLimit),
                            "x-dead-letter-exchange": .string(deadLetterExchange),
                            "x-dead-letter-routing-key": .string(service),
                        ]
                    ),
                    .init(name: dead, arguments: ["x-queue-type": "quorum"]),
                ],
                bindings: eventTypes.map { .init(queue: events, exchange: eventsExchange, routingKey: $0) }
                    + [.init(queue: dead, exchange: deadLetterExchange, routingKey: service)]
            )
        )
    }
}
