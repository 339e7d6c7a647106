import ServiceKit

/// The service's stores, wired to one another and to the service's schema, pool and outbox.
struct ContactsStores: Sendable {
    let contacts: ContactStore
    let accounts: AccountStore
    let interactions: InteractionStore
    let merges: MergeStore
    let customFields: CustomFieldStore
    let imports: ImportStore
    let export: ContactExport

    init(_ dependencies: ServiceDependencies) {
        let (schema, client, outbox, logger) = (dependencies.schema, dependencies.client, dependencies.outbox, dependencies.logger)
        contacts = ContactStore(schema: schema, client: client, outbox: outbox, logger: logger)
        accounts = AccountStore(schema: schema, client: client, outbox: outbox, logger: logger)
        interactions = InteractionStore(schema: schema, client: client, outbox: outbox, contacts: contacts, logger: logger)
        merges = MergeStore(schema: schema, client: client, outbox: outbox, contacts: contacts, logger: logger)
        customFields = CustomFieldStore(schema: schema, client: client, logger: logger)
        imports = ImportStore(
            schema: schema, client: client, logger: logger,
            maximumBytes: Int64(dependencies.environment.int("import.max.bytes", default: 2 << 30))
        )
        export = ContactExport(contacts: contacts, logger: logger)
    }
}
