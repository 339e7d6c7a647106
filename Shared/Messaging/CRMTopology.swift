import AMQP

/// The broker objects of DESIGN.md §2. The shared ones (the exchanges, `crm.unrouted`, every
/// service's dead-letter queue) are the operator's: `switchboard broker definitions` lists them
/// with the users' permissions, and a service only checks that they exist; it declares its own
/// `<service>.events` queue and its bindings, which is all its broker user may configure.
public enum CRMTopology {
    public static let eventsExchange = "crm.events"
    public static let deadLetterExchange = "crm.dlx"
    /// Events no queue is bound to yet land here (the alternate exchange of `crm.events`), so a
    /// publish of a type nobody consumes is confirmed instead of returned and retried forever.
    public static let unroutedExchange = "crm.unrouted"
    public static let unroutedQueue = "crm.unrouted"

    /// Outside systems' exchanges (Services/ERPBridge/asyncapi.yaml): each ERP source publishes to
    /// `erp.inbound` under `<source>.…` and reads its own queue `erp.<source>`, bound to
    /// `erp.outbound` under `<source>.#`. Both topic exchanges send what no queue takes to
    /// `crm.unrouted`, so an answer to a source that was removed is confirmed, not retried forever.
    public static let erpInboundExchange = "erp.inbound"
    public static let erpOutboundExchange = "erp.outbound"
    public static func erpSourceQueue(_ source: String) -> String { "erp.\(source)" }

    public static func eventsQueue(_ service: String) -> String { "\(service).events" }
    public static func deadQueue(_ service: String) -> String { "\(service).dead" }

    /// The exchanges and `crm.unrouted`, declared (as the operator, or a test, does).
    public static var exchanges: Topology {
        Topology(
            exchanges: [
                .init(name: unroutedExchange, type: "fanout"),
                .init(name: eventsExchange, type: "topic", arguments: ["alternate-exchange": .string(unroutedExchange)]),
                .init(name: deadLetterExchange, type: "direct"),
                .init(name: erpInboundExchange, type: "topic", arguments: ["alternate-exchange": .string(unroutedExchange)]),
                .init(name: erpOutboundExchange, type: "topic", arguments: ["alternate-exchange": .string(unroutedExchange)]),
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

    /// What a service's publisher checks before it publishes: that the exchanges exist.
    public static var checkedExchanges: Topology {
        Topology(exchanges: exchanges.exchanges.map { exchange in
            var checked = exchange
            checked.passive = true
            return checked
        })
    }

    /// A service's `<service>.dead` queue on `crm.dlx`: the operator's, since only the operator
    /// reads dead letters.
    public static func deadLetters(service: String) -> Topology {
        Topology(
            queues: [.init(name: deadQueue(service), arguments: ["x-queue-type": "quorum"])],
            bindings: [.init(queue: deadQueue(service), exchange: deadLetterExchange, routingKey: service)]
        )
    }

    /// Everything shared, for the services named: what the operator declares.
    public static func shared(services: [String]) -> Topology {
        services.reduce(exchanges) { $0.merged(with: deadLetters(service: $1)) }
    }

    /// A consuming service's own queue, `<service>.events` (quorum, delivery limit, dead-letters to
    /// `crm.dlx` under the service's own key), bound to the event types it handles.
    public static let defaultDeliveryLimit: Int64 = 5

    public static func consumer(service: String, eventTypes: [String], deliveryLimit: Int64 = defaultDeliveryLimit) -> Topology {
        let events = eventsQueue(service)
        return checkedExchanges.merged(
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
                    )
                ],
                bindings: eventTypes.map { .init(queue: events, exchange: eventsExchange, routingKey: $0) }
            )
        )
    }

    /// A consumer with everything it relies on declared too: for a test or a benchmark that plays
    /// a service of its own as the administrator.
    public static func selfContained(service: String, eventTypes: [String]) -> Topology {
        exchanges.merged(with: deadLetters(service: service)).merged(with: consumer(service: service, eventTypes: eventTypes))
    }
}
