import Messaging
import Storage

/// Functions every service's SQL uses (`ts`, the API's timestamps): `Shared/ServiceKit/SQL/`,
/// applied to every schema with the messaging tables, before the service's own.
public enum CommonSQL {
    public static let files = SQLFiles(EmbeddedSQL.files)

    /// What a service's schema is made of: the messaging tables and functions, these, and its own.
    public static func schema(of definition: ServiceDefinition) -> SQLFiles {
        MessagingMigrations.sql + files + definition.sql
    }
}
