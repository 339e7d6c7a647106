import ServiceKit

/// The service's stores, wired to one another and to the service's schema, pool and outbox.
struct ERPBridgeStores: Sendable {
    let master: CustomerMaster
    let matching: CustomerMatching
    let replica: CustomerReplica
    let prospects: ProspectAnswers
    let orders: OrderStore
    let reconciliation: Reconciliation
    let alerts: AlertStore
    let intake: ERPIntake

    init(_ service: ServiceDependencies) {
        master = CustomerMaster(service: service)
        matching = CustomerMatching(service: service, master: master)
        replica = CustomerReplica(service: service, master: master)
        prospects = ProspectAnswers(service: service, matching: matching)
        orders = OrderStore(service: service)
        reconciliation = Reconciliation(service: service)
        alerts = AlertStore(service: service)
        intake = ERPIntake(
            service: service, inbox: InboundMessages(service: service),
            writer: OrderWriter(service: service, matching: matching, alerts: alerts),
            matching: matching, reconciliation: reconciliation
        )
    }
}
