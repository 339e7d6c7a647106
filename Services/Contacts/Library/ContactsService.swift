import Storage
import Messaging
import ServiceLifecycle
import ServiceKit

/// The contacts service: people, companies and every interaction with them. It owns the `contacts` schema.
public enum ContactsService {
    public static let definition = ServiceDefinition(
        name: "contacts",
        sql: SQLFiles(EmbeddedSQL.files),
        handlers: { dependencies in
            [
                LeadConversions(schema: dependencies.schema, outbox: dependencies.outbox, contacts: contactStore(dependencies), logger: dependencies.logger)
                    .handler,
                CompletedActivities(interactions: interactionStore(dependencies), logger: dependencies.logger).handler,
            ]
        },
        routes: { router, dependencies in
            let contacts = contactStore(dependencies)
            ContactRoutes(
                contacts: contacts,
                accounts: AccountStore(
                    schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox, logger: dependencies.logger
                ),
                interactions: interactionStore(dependencies),
                merges: MergeStore(
                    schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox, contacts: contacts,
                    logger: dependencies.logger
                ),
                customFields: CustomFieldStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger),
                imports: ImportStore(
                    schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger,
                    maximumBytes: Int64(dependencies.environment.int("import.max.bytes", default: 2 << 30))
                ),
                export: ContactExport(contacts: contacts, logger: dependencies.logger)
            ).register(on: router)
        },
        services: { dependencies in
            [
                ImportWorker(
                    schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox,
                    contacts: contactStore(dependencies), logger: dependencies.logger,
                    batchSize: dependencies.environment.int("import.batch.size", default: 500)
                )
            ]
        }
    )

    static func interactionStore(_ dependencies: ServiceDependencies) -> InteractionStore {
        InteractionStore(
            schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox, contacts: contactStore(dependencies),
            logger: dependencies.logger
        )
    }

    static func contactStore(_ dependencies: ServiceDependencies) -> ContactStore {
        ContactStore(schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox, logger: dependencies.logger)
    }
}
