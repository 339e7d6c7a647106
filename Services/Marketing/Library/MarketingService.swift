import Storage
import ServiceKit

/// The marketing service: campaigns, segments and responses. It owns the `marketing` schema.
public enum MarketingService {
    public static let definition = ServiceDefinition(name: "marketing", sql: SQLFiles(EmbeddedSQL.files))
}
