import Logging
import Messaging
import ServiceKit
import Storage

/// The sales service: pipelines, deals and their outcomes, with a replica of the contacts they
/// name. It owns the `sales` schema.
public enum SalesService {
    public static let definition = ServiceDefinition(
        name: "sales",
        migrations: SalesMigrations.all,
        handlers: { dependencies in replica(dependencies).handlers },
        routes: { router, dependencies in
            SalesRoutes(
                pipelines: PipelineStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger),
                deals: DealStore(
                    schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox,
                    replica: replica(dependencies), logger: dependencies.logger
                ),
                lostReasons: LostReasonStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger),
                reports: ReportStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger)
            ).register(on: router)
        }
    )

    static func replica(_ dependencies: ServiceDependencies) -> ContactReplica {
        ContactReplica(schema: dependencies.schema, outbox: dependencies.outbox, logger: dependencies.logger)
    }
}
