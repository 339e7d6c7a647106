import AMQP
import Hummingbird
import Logging
import Messaging
import PostgresNIO
import ServiceLifecycle
import Storage

/// What makes one service differ from another; `ServiceRunner` supplies the rest.
public struct ServiceDefinition: Sendable {
    /// The service's name, which is also its schema, database role and broker user (`erp_bridge`).
    public var name: String
    /// Its own migrations (versions from 100; `MessagingMigrations` are applied first).
    public var migrations: [Migration]
    /// The events it consumes; none means it declares its queues but binds nothing.
    public var handlers: @Sendable (ServiceDependencies) -> [EventHandler]
    /// Its HTTP routes, beside the health and metrics routes.
    public var routes: @Sendable (Router<BasicRequestContext>, ServiceDependencies) -> Void
    /// Its own long-running loops (an import worker, a sweeper), run beside the server and shut
    /// down with it.
    public var services: @Sendable (ServiceDependencies) -> [any Service]

    public init(
        name: String,
        migrations: [Migration] = [],
        handlers: @escaping @Sendable (ServiceDependencies) -> [EventHandler] = { _ in [] },
        routes: @escaping @Sendable (Router<BasicRequestContext>, ServiceDependencies) -> Void = { _, _ in },
        services: @escaping @Sendable (ServiceDependencies) -> [any Service] = { _ in [] }
    ) {
        self.name = name
        self.migrations = migrations
        self.handlers = handlers
        self.routes = routes
        self.services = services
    }
}

/// Shared parts a service's routes and handlers use.
public struct ServiceDependencies: Sendable {
    public let schema: SchemaName
    public let client: PostgresClient
    public let outbox: Outbox
    public let environment: SwitchboardEnvironment
    public let logger: Logger
}
