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

    init(_ service: ServiceDependencies) {
        contacts = ContactStore(service: service)
        accounts = AccountStore(service: service)
        interactions = InteractionStore(service: service, contacts: contacts)
        merges = MergeStore(service: service, contacts: contacts)
        customFields = CustomFieldStore(service: service)
        imports = ImportStore(service: service, maximumBytes: Int64(service.environment.int("import.max.bytes", default: 2 << 30)))
        export = ContactExport(contacts: contacts, logger: service.logger)
    }
}
