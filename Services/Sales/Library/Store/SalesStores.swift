import ServiceKit
import StaffReplica

/// The service's stores, wired to one another and to the service's schema, pool and outbox.
struct SalesStores: Sendable {
    let replica: ContactReplica
    let staff: StaffReplica
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
    let orderRequests: OrderRequests

    init(_ service: ServiceDependencies) {
        replica = ContactReplica(service: service)
        staff = StaffReplica(service: service)
        pipelines = PipelineStore(service: service)
        deals = DealStore(service: service, replica: replica, staff: staff)
        lostReasons = LostReasonStore(service: service)
        reports = ReportStore(service: service)
        leads = LeadStore(service: service, deals: deals)
        catalog = CatalogStore(service: service)
        quotes = QuoteStore(service: service, deals: deals)
        activities = ActivityStore(service: service, replica: replica, staff: staff)
        callLists = CallListStore(service: service, activities: activities)
        customers = CustomerSales(service: service)
        orderRequests = OrderRequests(service: service)
    }
}
