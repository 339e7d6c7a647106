import Contracts
import Logging
import Messaging
import ServiceKit
import Storage

/// The sales service: pipelines, deals and their outcomes, with a replica of the contacts they
/// name. It owns the `sales` schema.
public enum SalesService {
    public static let definition = ServiceDefinition(
        name: "sales",
        sql: SQLFiles(EmbeddedSQL.files),
        handlers: { dependencies in
            let leads = leadStore(dependencies)
            return replica(dependencies).handlers + [
                EventHandler(type: ContactEvents.contactLeadLinked) { envelope, context in
                    try await leads.link(try envelope.payload(as: ContactLeadLink.self), on: context.connection)
                }
            ]
        },
        routes: { router, dependencies in
            SalesRoutes(
                pipelines: PipelineStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger),
                deals: dealStore(dependencies),
                lostReasons: LostReasonStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger),
                reports: ReportStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger),
                leads: leadStore(dependencies),
                catalog: CatalogStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger),
                quotes: quoteStore(dependencies),
                activities: activityStore(dependencies),
                callLists: CallListStore(
                    schema: dependencies.schema, client: dependencies.client, activities: activityStore(dependencies), logger: dependencies.logger
                ),
                customers: CustomerSales(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger)
            ).register(on: router)
        },
        services: { dependencies in [QuoteExpiry(quotes: quoteStore(dependencies), logger: dependencies.logger)] }
    )

    static func activityStore(_ dependencies: ServiceDependencies) -> ActivityStore {
        ActivityStore(
            schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox, replica: replica(dependencies),
            logger: dependencies.logger
        )
    }

    static func quoteStore(_ dependencies: ServiceDependencies) -> QuoteStore {
        QuoteStore(
            schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox, deals: dealStore(dependencies),
            logger: dependencies.logger
        )
    }

    static func dealStore(_ dependencies: ServiceDependencies) -> DealStore {
        DealStore(
            schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox, replica: replica(dependencies),
            logger: dependencies.logger
        )
    }

    static func leadStore(_ dependencies: ServiceDependencies) -> LeadStore {
        LeadStore(
            schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox, deals: dealStore(dependencies),
            logger: dependencies.logger
        )
    }

    static func replica(_ dependencies: ServiceDependencies) -> ContactReplica {
        ContactReplica(schema: dependencies.schema, outbox: dependencies.outbox, logger: dependencies.logger)
    }
}
