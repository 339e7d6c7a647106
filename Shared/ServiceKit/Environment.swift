import AMQP
import Configuration
import Storage

/// Settings from `SWITCHBOARD_*` environment variables (README, "Configuration").
public struct SwitchboardEnvironment: Sendable {
    private let reader: ConfigReader

    public init() {
        reader = ConfigReader(provider: EnvironmentVariablesProvider())
    }

    public func string(_ key: String, default value: String) -> String {
        reader.string(forKey: ConfigKey("switchboard.\(key)"), default: value)
    }

    public func secret(_ key: String, default value: String) -> String {
        reader.string(forKey: ConfigKey("switchboard.\(key)"), isSecret: true, default: value)
    }

    public func int(_ key: String, default value: Int) -> Int {
        reader.int(forKey: ConfigKey("switchboard.\(key)"), default: value)
    }

    public func optionalString(_ key: String) -> String? {
        reader.string(forKey: ConfigKey("switchboard.\(key)"))
    }

    public func optionalSecret(_ key: String) -> String? {
        reader.string(forKey: ConfigKey("switchboard.\(key)"), isSecret: true)
    }

    /// `SWITCHBOARD_PG_*`.
    public func database(defaultUser: String) -> DatabaseConfiguration {
        DatabaseConfiguration(
            host: string("pg.host", default: "127.0.0.1"),
            port: int("pg.port", default: 5433),
            user: string("pg.user", default: defaultUser),
            password: secret("pg.password", default: ""),
            database: string("pg.database", default: "switchboard"),
            maximumConnections: int("pg.pool.size", default: 20)
        )
    }

    /// `SWITCHBOARD_AMQP_*`.
    public func broker(defaultUser: String, connectionName: String) -> AMQPConfiguration {
        AMQPConfiguration(
            host: string("amqp.host", default: "127.0.0.1"),
            port: int("amqp.port", default: 5673),
            user: string("amqp.user", default: defaultUser),
            password: secret("amqp.password", default: ""),
            virtualHost: string("amqp.vhost", default: "switchboard"),
            heartbeat: int("amqp.heartbeat", default: 10),
            connectionName: connectionName
        )
    }
}
