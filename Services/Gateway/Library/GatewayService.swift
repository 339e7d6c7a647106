import AsyncHTTPClient
import Catalogue
import Contracts
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceKit
import Storage

/// The gateway: the one public HTTP API and the web app. It owns the `gateway` schema (API keys,
/// idempotency records, the staff's users, teams, sessions and calendar feeds, the customers'
/// portal accounts) and publishes `identity.*`.
public enum GatewayService {
    public static let definition = ServiceDefinition(
        name: "gateway",
        eventPrefix: IdentityEvents.producer,
        sql: SQLFiles(EmbeddedSQL.files),
        routes: { router, dependencies in
            let environment = dependencies.environment
            let token = environment.secret(GatewayCredential.setting, default: "")
            // Every service it passes public calls to, at SWITCHBOARD_<NAME>_URL.
            var upstreams: [String: Upstream] = [:]
            for service in ServiceCatalogue.routed {
                upstreams[service.name] = Upstream(
                    name: service.name, baseURL: environment.string("\(service.name).url", default: "http://127.0.0.1:\(service.port)"),
                    client: httpClient, token: token, logger: dependencies.logger
                )
            }
            let users = UserStore(service: dependencies), teams = TeamStore(service: dependencies)
            let routes = GatewayRoutes(
                keys: APIKeyStore(
                    schema: dependencies.schema, client: dependencies.client,
                    adminKey: environment.optionalSecret("admin.key"), logger: dependencies.logger
                ),
                users: users, teams: teams,
                idempotency: idempotencyStore(dependencies),
                upstreams: upstreams, logger: dependencies.logger,
                overviewTimeout: .milliseconds(Int64(environment.int("overview.timeout.ms", default: 1500))),
                maximumUploadBytes: Int64(environment.int("import.max.bytes", default: 2 << 30))
            )
            routes.register(on: router)
            WebApp(dependencies: dependencies, upstreams: upstreams, users: users, teams: teams, routes: routes, sessions: sessionStore(dependencies))
                .register(on: router)
        },
        services: { dependencies in
            [
                HTTPClientService(client: httpClient),
                Sweeper(idempotency: idempotencyStore(dependencies), sessions: sessionStore(dependencies), logger: dependencies.logger),
            ]
        }
    )

    static func idempotencyStore(_ dependencies: ServiceDependencies) -> IdempotencyStore {
        IdempotencyStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger)
    }

    static func sessionStore(_ dependencies: ServiceDependencies) -> SessionStore {
        let environment = dependencies.environment
        var limits = SessionStore.Limits()
        limits.idle = .seconds(60 * environment.int("session.idle.minutes", default: 120))
        limits.absolute = .seconds(3600 * environment.int("session.absolute.hours", default: 12))
        return SessionStore(service: dependencies, users: UserStore(service: dependencies), limits: limits)
    }

    /// One pool for every upstream: a few connections per service, short connect timeout, so a
    /// service that is down answers fast instead of holding the caller.
    static let httpClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(60))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Every staff user's current document published once more (`switchboard identity publish-users`):
    /// how a service that starts keeping a copy of the staff gets the users made before it.
    public static func publishUsers(client: PostgresClient, logger: Logger) async throws -> Int {
        try await UserStore(service: ServiceDependencies(schema: try SchemaName(definition.name), client: client, logger: logger)).publishAll()
    }
}
