import AMQP
import Catalogue
import Foundation
import Hummingbird
import Logging
import Messaging
import PostgresNIO
import ServiceLifecycle
import UnixSignals
import Storage

/// The composition root every service executable calls: configuration from the environment,
/// logging, metrics, migration, the outbox relay, the event consumer and the HTTP server, run as
/// one ServiceGroup that shuts down gracefully on SIGTERM or SIGINT (server first, then the
/// consumer finishes its delivery, the relay flushes, the publisher waits for its confirms).
/// Shutdown has a bound: what is not done after `gracefulShutdown` is cancelled, and a process
/// still alive after `hardExit` (a call stuck beyond cancellation) exits anyway.
public enum ServiceRunner {
    public static let gracefulShutdown: Duration = .seconds(10)
    public static let hardExit: Duration = .seconds(15)

    /// Runs the service; a failure to start (bad configuration, a migration that fails) is printed
    /// as one line and exits with status 1.
    public static func main(_ definition: ServiceDefinition) async {
        EventLoopExecutor.install()
        ShutdownWatchdog.install(service: definition.name, after: hardExit)
        do {
            try await run(definition)
        } catch {
            FileHandle.standardError.write(Data("\(definition.name): \(String(reflecting: error))\n".utf8))
            exit(1)
        }
    }

    public static func run(_ definition: ServiceDefinition) async throws {
        let environment = SwitchboardEnvironment()
        let name = environment.string("service", default: definition.name)
        let logger = Observability.bootstrapLogging(service: name, environment: environment)
        let registry = Observability.bootstrapMetrics()
        let schema = try SchemaName(definition.name)
        let database = environment.database(defaultUser: definition.name)
        let gatewayToken = environment.optionalSecret(GatewayCredential.setting) ?? ""
        guard !gatewayToken.isEmpty else {
            throw ConfigurationError("SWITCHBOARD_GATEWAY_TOKEN is not set: the secret the gateway and the services share")
        }
        let client = PostgresClient(configuration: database.serviceClientConfiguration, backgroundLogger: logger)

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            let migrator = Migrator(schema: schema, sql: CommonSQL.schema(of: definition))
            try await migrator.migrate(client, logger: logger)

            let dependencies = ServiceDependencies(schema: schema, client: client, environment: environment, logger: logger)
            let handlers = definition.handlers(dependencies)
            let publisher = AMQPPublisher(
                configuration: environment.broker(defaultUser: definition.name, connectionName: "\(name) publisher"),
                topology: CRMTopology.checkedExchanges, logger: logger
            )
            let consumer = AMQPConsumer(
                configuration: environment.broker(defaultUser: definition.name, connectionName: "\(name) consumer"),
                topology: EventConsumer.topology(service: definition.name, handlers: handlers),
                queues: [CRMTopology.eventsQueue(definition.name)],
                prefetch: UInt16(environment.int("amqp.prefetch", default: 128)),
                logger: logger
            )
            let relay = OutboxRelay(
                schema: schema, producer: definition.name, database: database, client: client, publisher: publisher,
                logger: logger
            )
            let eventConsumer = EventConsumer(
                service: definition.name, schema: schema, client: client, consumer: consumer, publisher: publisher,
                handlers: handlers, lanes: environment.int("consumer.lanes", default: EventConsumer.defaultLanes),
                maximumEventBytes: environment.int("consumer.max.event.bytes", default: EventConsumer.defaultMaximumEventBytes),
                logger: logger
            )

            let health = HealthChecks(
                publisher: publisher, consumer: consumer, relay: relay, registry: registry,
                maximumOutboxLag: .seconds(environment.int("ready.max.outbox.lag.seconds", default: 30))
            )
            var app = Application(
                responder: responder(definition, dependencies, gatewayToken: gatewayToken, health: health),
                server: .http1(configuration: .init(idleTimeout: .seconds(75))),
                configuration: .init(
                    address: .hostname(
                        environment.string("http.host", default: "127.0.0.1"),
                        port: environment.int("http.port", default: definition.entry?.port ?? 8080)
                    ),
                    serverName: name
                ),
                logger: logger
            )
            var retentionSettings = Retention.Settings()
            retentionSettings.outbox = .seconds(86_400 * environment.int("outbox.retention.days", default: 7))
            retentionSettings.inbox = .seconds(86_400 * environment.int("inbox.retention.days", default: 30))
            let retention = Retention(schema: schema, client: client, settings: retentionSettings, logger: logger)
            app.addServices(PublisherService(publisher), relay, eventConsumer, retention)
            if let intake = definition.intake?(dependencies) {
                let intakeConsumer = AMQPConsumer(
                    configuration: environment.broker(defaultUser: definition.name, connectionName: "\(name) intake"),
                    topology: CRMTopology.checkedExchanges.merged(with: intake.topology), queues: [intake.queue],
                    prefetch: UInt16(environment.int("amqp.prefetch", default: 128)), logger: logger
                )
                app.addServices(
                    IntakeConsumer(
                        service: definition.name, schema: schema, intake: intake, client: client, consumer: intakeConsumer,
                        publisher: publisher, lanes: environment.int("consumer.lanes", default: EventConsumer.defaultLanes), logger: logger
                    )
                )
            }
            app.addServices(definition.services(dependencies))
            var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            configuration.maximumGracefulShutdownDuration = gracefulShutdown
            try await ServiceGroup(configuration: configuration).run()
            group.cancelAll()
        }
    }
}

extension ServiceRunner {
    /// The service's HTTP side, built as it runs, without running it: its routes behind the
    /// middleware every service has (problems, metrics, the gateway's token unless `gatewayToken`
    /// is nil, storable text, the request ledger), its health routes when given, within the
    /// request deadline. A test drives it in-process (`app.test(.router)`), with no broker.
    public static func responder(
        _ definition: ServiceDefinition, _ dependencies: ServiceDependencies, gatewayToken: String?, health: HealthChecks? = nil
    ) -> DeadlineResponder<RouterResponder<ServiceRequestContext>> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        if let gatewayToken, !definition.isPublic { router.add(middleware: GatewayCredentialMiddleware(token: gatewayToken)) }
        router.add(middleware: StorableTextMiddleware())
        // The gateway keeps Idempotency-Keys itself; a request key a client sent it means nothing.
        if !definition.isPublic {
            router.add(middleware: RequestLedgerMiddleware(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger))
        }
        health?.register(on: router)
        definition.routes(router, dependencies)
        return DeadlineResponder(router.buildResponder(), isPublic: definition.isPublic)
    }
}

/// A setting the service cannot start without.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
