import Storage
import ServiceKit

/// The support service: tickets, SLAs and service work. It owns the `support` schema.
public enum SupportService {
    public static let definition = ServiceDefinition(name: "support", sql: SQLFiles(EmbeddedSQL.files))
}
