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
            let stores = ContactsStores(dependencies)
            return [
                LeadConversions(schema: dependencies.schema, outbox: dependencies.outbox, contacts: stores.contacts, logger: dependencies.logger)
                    .handler,
                CompletedActivities(interactions: stores.interactions, logger: dependencies.logger).handler,
            ]
        },
        routes: { router, dependencies in ContactsStores(dependencies).register(on: router) },
        services: { dependencies in
            [
                ImportWorker(
                    schema: dependencies.schema, client: dependencies.client, outbox: dependencies.outbox,
                    contacts: ContactsStores(dependencies).contacts, logger: dependencies.logger,
                    batchSize: dependencies.environment.int("import.batch.size", default: 500)
                )
            ]
        }
    )
}
