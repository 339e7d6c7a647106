import Catalogue
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
    /// Its own SQL: `EmbeddedSQL.files` of its `SQL/` folder (migrations from version 100, and
    /// functions); the messaging and common SQL apply first (`CommonSQL.schema(of:)`).
    public var sql: SQLFiles
    /// The events it consumes; none means it declares its queues but binds nothing.
    public var handlers: @Sendable (ServiceDependencies) -> [EventHandler]
    /// Its HTTP routes, beside the health and metrics routes.
    public var routes: @Sendable (Router<ServiceRequestContext>, ServiceDependencies) -> Void
    /// Its own long-running loops (an import worker, a sweeper), run beside the server and shut
    /// down with it.
    public var services: @Sendable (ServiceDependencies) -> [any Service]
    /// The prefix of the event types it publishes, which its envelopes name as their producer and
    /// its broker user may publish under: its name, or the part of the domain it speaks for (the
    /// gateway keeps the users and teams and publishes `identity.*`).
    public var eventPrefix: String
    /// Messages from outside systems it takes in on a queue of its own (the ERP bridge's orders),
    /// consumed beside its events by an `IntakeConsumer`.
    public var intake: (@Sendable (ServiceDependencies) -> any MessageIntake)?
    /// The broker access that intake and its answers need beyond the events'.
    public var brokerExtras: BrokerExtras

    public init(
        name: String,
        eventPrefix: String? = nil,
        sql: SQLFiles = .none,
        handlers: @escaping @Sendable (ServiceDependencies) -> [EventHandler] = { _ in [] },
        routes: @escaping @Sendable (Router<ServiceRequestContext>, ServiceDependencies) -> Void = { _, _ in },
        services: @escaping @Sendable (ServiceDependencies) -> [any Service] = { _ in [] },
        intake: (@Sendable (ServiceDependencies) -> any MessageIntake)? = nil,
        brokerExtras: BrokerExtras = .none
    ) {
        self.name = name
        self.eventPrefix = eventPrefix ?? name
        self.sql = sql
        self.handlers = handlers
        self.routes = routes
        self.services = services
        self.intake = intake
        self.brokerExtras = brokerExtras
    }
}

/// Shared parts a service's routes and handlers use.
public struct ServiceDependencies: Sendable {
    public let schema: SchemaName
    public let client: PostgresClient
    public let outbox: Outbox
    public let environment: SwitchboardEnvironment
    public let logger: Logger

    public init(schema: SchemaName, client: PostgresClient, environment: SwitchboardEnvironment = .init(), logger: Logger) {
        self.schema = schema
        self.client = client
        outbox = Outbox(schema: schema)
        self.environment = environment
        self.logger = logger
    }
}

extension ServiceDefinition {
    /// Its row in the service catalogue.
    public var entry: CatalogueEntry? { ServiceCatalogue.entry(name) }

    /// Whether anyone may call it (the gateway). Every other service answers only calls that carry
    /// the gateway's credential.
    public var isPublic: Bool { entry?.role == .gateway }

    /// The event types its handlers consume, read without running the service: the handlers are
    /// built on a database client that is never started (building one connects nothing).
    public var consumedEventTypes: [String] {
        get throws {
            let schema = try SchemaName(name)
            let client = PostgresClient(
                configuration: DatabaseConfiguration(user: name, password: "").clientConfiguration, backgroundLogger: Logger(label: name)
            )
            let dependencies = ServiceDependencies(schema: schema, client: client, logger: Logger(label: name))
            return handlers(dependencies).map(\.type).sorted()
        }
    }

    /// What its broker user may do.
    public var brokerAccess: BrokerAccess {
        get throws { BrokerAccess(service: name, eventPrefix: eventPrefix, consumes: try consumedEventTypes, extras: brokerExtras) }
    }
}

/// A store of a service (or anything else that reads and writes its schema): the schema, the
/// pool, the outbox and the logger are the service's, so a store names only what else it needs.
public protocol ServiceStore: Sendable {
    var service: ServiceDependencies { get }
}

extension ServiceStore {
    public var schema: SchemaName { service.schema }
    public var client: PostgresClient { service.client }
    public var outbox: Outbox { service.outbox }
    public var logger: Logger { service.logger }
}
