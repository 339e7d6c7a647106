import Logging
import PostgresNIO

/// How a service reaches PostgreSQL: its own login role, which owns its own schema only.
public struct DatabaseConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var database: String
    public var maximumConnections: Int

    public init(
        host: String = "127.0.0.1", port: Int = 5432, user: String, password: String,
        database: String = "switchboard", maximumConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.maximumConnections = maximumConnections
    }

    /// A pool for the operator and tests: sessions read and write as PostgreSQL's default.
    public var clientConfiguration: PostgresClient.Configuration { clientConfiguration(readOnlySessions: false) }

    /// A service's pool: every session is read-only unless a transaction says otherwise
    /// (`PostgresClient.transaction` begins READ WRITE), so a write sent on its own fails rather
    /// than answer before its commit (Transaction.swift says why that answer can be false).
    public var serviceClientConfiguration: PostgresClient.Configuration { clientConfiguration(readOnlySessions: true) }

    func clientConfiguration(readOnlySessions: Bool) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: .disable
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters =
            Self.sessionSettings + (readOnlySessions ? [("default_transaction_read_only", "on")] : [])
        return configuration
    }

    /// Short transactions with plans the optimizer over-costs (a row estimate per array probe):
    /// compiling them with JIT took longer than running them (440 ms against 5 ms, seen in an
    /// import batch at a million contacts). Every session is in UTC, the zone the API's dates
    /// and days are in (`current_date`, a date compared with a timestamp), whatever the server's
    /// default is.
    static let sessionSettings = [("jit", "off"), ("TimeZone", "UTC")]

    /// A single connection outside the pool: for `LISTEN`, and for session-level advisory locks,
    /// which belong to one connection and must not go back to a pool.
    public func connect(id: Int, logger: Logger) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: .disable
        )
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = Self.sessionSettings
        return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
    }
}
