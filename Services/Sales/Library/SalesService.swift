import Contracts
import Logging
import Messaging
import ServiceKit
import StaffReplica
import Storage

/// The sales service: pipelines, deals and their outcomes, with a replica of the contacts they
/// name. It owns the `sales` schema.
public enum SalesService {
    public static let definition = ServiceDefinition(
        name: "sales",
        sql: SQLFiles(EmbeddedSQL.files) + StaffReplica.sql,
        handlers: { dependencies in
            let stores = SalesStores(dependencies)
            return stores.replica.handlers + stores.staff.handlers + [
                EventHandler(type: ContactEvents.contactLeadLinked) { envelope, context in
                    try await stores.leads.link(try envelope.payload(as: ContactLeadLink.self), on: context.connection)
                }
            ]
        },
        routes: { router, dependencies in SalesStores(dependencies).register(on: router) },
        services: { dependencies in [QuoteExpiry(quotes: SalesStores(dependencies).quotes, logger: dependencies.logger)] }
    )
}
