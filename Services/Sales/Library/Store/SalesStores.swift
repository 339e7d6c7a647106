import ServiceKit

/// The service's stores, wired to one another and to the service's schema, pool and outbox.
struct SalesStores: Sendable {
    let replica: ContactReplica
    let pipelines: PipelineStore
    let deals: DealStore
    let lostReasons: LostReasonStore
    let reports: ReportStore
    let leads: LeadStore
    let catalog: CatalogStore
    let quotes: QuoteStore
    let activities: ActivityStore
    let callLists: CallListStore
    let customers: CustomerSales

    init(_ dependencies: ServiceDependencies) {
        let (schema, client, outbox, logger) = (dependencies.schema, dependencies.client, dependencies.outbox, dependencies.logger)
        replica = ContactReplica(schema: schema, outbox: outbox, logger: logger)
        pipelines = PipelineStore(schema: schema, client: client, logger: logger)
        deals = DealStore(schema: schema, client: client, outbox: outbox, replica: replica, logger: logger)
        lostReasons = LostReasonStore(schema: schema, client: client, logger: logger)
        reports = ReportStore(schema: schema, client: client, logger: logger)
        leads = LeadStore(schema: schema, client: client, outbox: outbox, deals: deals, logger: logger)
        catalog = CatalogStore(schema: schema, client: client, logger: logger)
        quotes = QuoteStore(schema: schema, client: client, outbox: outbox, deals: deals, logger: logger)
        activities = ActivityStore(schema: schema, client: client, outbox: outbox, replica: replica, logger: logger)
        callLists = CallListStore(schema: schema, client: client, activities: activities, logger: logger)
        customers = CustomerSales(schema: schema, client: client, logger: logger)
    }
}
