import AsyncHTTPClient
import Catalogue
import Contracts
import Foundation
import NIOCore
import ServiceKit
import Storage

/// The gateway: the one public HTTP API and the web app. It owns the `gateway` schema (API keys,
/// idempotency records, the staff's users, teams and sessions) and publishes `identity.*`.
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
            let users = UserStore(service: dependencies)
            let routes = GatewayRoutes(
                keys: APIKeyStore(
                    schema: dependencies.schema, client: dependencies.client,
                    adminKey: environment.optionalSecret("admin.key"), logger: dependencies.logger
                ),
                users: users, teams: TeamStore(service: dependencies),
                idempotency: idempotencyStore(dependencies),
                upstreams: upstreams, logger: dependencies.logger,
                overviewTimeout: .milliseconds(Int64(environment.int("overview.timeout.ms", default: 1500))),
                maximumUploadBytes: Int64(environment.int("import.max.bytes", default: 2 << 30))
            )
            routes.register(on: router)
            let access = WebAccess(
                sessions: sessionStore(dependencies), renderer: .shared,
                secureCookies: environment.string("web.secure.cookies", default: "false") == "true", logger: dependencies.logger
            )
            SignInPages(access: access, users: users).register(on: router)
            let api = ServiceAPI(upstreams: upstreams)
            StaffPages(access: access, api: api, users: users, overview: routes.overview).register(on: router)
            ContactEditPage(access: access, api: api, users: users).register(on: router)
            AccountPages(access: access, api: api, users: users).register(on: router)
            ImportPages(access: access, api: api).register(on: router)
            DealPages(access: access, api: api, users: users).register(on: router)
            ActivityPages(access: access, api: api, users: users, teams: TeamStore(service: dependencies), feeds: CalendarFeedStore(service: dependencies))
                .register(on: router)
            CallListPages(access: access, api: api, users: users).register(on: router)
            DuplicatePages(access: access, api: api).register(on: router)
            LeadPages(access: access, api: api, users: users).register(on: router)
            DashboardPages(access: access, api: api, users: users).register(on: router)
            AdminPages(access: access, users: users).register(on: router)
            PortalPages(access: access, api: api, portal: PortalStore(service: dependencies, sessions: access.sessions)).register(on: router)
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
}
