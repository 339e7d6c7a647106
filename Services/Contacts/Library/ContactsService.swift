import ServiceKit

/// The contacts service: people, companies and every interaction with them. It owns the `contacts` schema.
public enum ContactsService {
    public static let definition = ServiceDefinition(name: "contacts")
}
