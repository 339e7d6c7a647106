import StaffReplica
import Storage
import Messaging
import ServiceLifecycle
import ServiceKit

/// The contacts service: people, companies and every interaction with them. It owns the `contacts` schema.
public enum ContactsService {
    public static let definition = ServiceDefinition(
        name: "contacts",
        sql: SQLFiles(EmbeddedSQL.files) + StaffReplica.sql,
        handlers: { dependencies in
            let stores = ContactsStores(dependencies)
            return StaffReplica(service: dependencies).handlers + [
                LeadConversions(service: dependencies, contacts: stores.contacts).handler,
                CompletedActivities(interactions: stores.interactions, logger: dependencies.logger).handler,
                ProspectRequests(service: dependencies, contacts: stores.contacts, accounts: stores.accounts).handler,
            ]
        },
        routes: { router, dependencies in ContactsStores(dependencies).register(on: router) },
        services: { dependencies in
            [
                ImportWorker(
                    service: dependencies, contacts: ContactsStores(dependencies).contacts,
                    batchSize: dependencies.environment.int("import.batch.size", default: 500)
                )
            ]
        }
    )
}
