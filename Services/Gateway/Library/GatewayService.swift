import Storage
import Catalogue
import AsyncHTTPClient
import Foundation
import NIOCore
import ServiceKit

/// The gateway: the one public HTTP API. It owns the `gateway` schema (API keys, idempotency records).
public enum GatewayService {
    public static let definition = ServiceDefinition(
        name: "gateway",
        sql: SQLFiles(EmbeddedSQL.files),
        routes: { router, dependencies in
            let environment = dependencies.environment
            let client = httpClient
            let token = environment.secret(GatewayCredential.setting, default: "")
            // Every service it passes public calls to, at SWITCHBOARD_<NAME>_URL.
            var upstreams: [String: Upstream] = [:]
            for service in ServiceCatalogue.routed {
                upstreams[service.name] = Upstream(
                    name: service.name, baseURL: environment.string("\(service.name).url", default: "http://127.0.0.1:\(service.port)"),
                    client: client, token: token, logger: dependencies.logger
                )
            }
            GatewayRoutes(
                keys: APIKeyStore(
                    schema: dependencies.schema, client: dependencies.client,
                    adminKey: environment.optionalSecret("admin.key"), logger: dependencies.logger
                ),
                idempotency: idempotencyStore(dependencies),
                upstreams: upstreams, logger: dependencies.logger,
                overviewTimeout: .milliseconds(Int64(environment.int("overview.timeout.ms", default: 1500))),
                maximumUploadBytes: Int64(environment.int("import.max.bytes", default: 2 << 30))
            ).register(on: router)
        },
        services: { dependencies in
            [
                HTTPClientService(client: httpClient),
                IdempotencySweeper(store: idempotencyStore(dependencies), logger: dependencies.logger),
            ]
        }
    )

    static func idempotencyStore(_ dependencies: ServiceDependencies) -> IdempotencyStore {
        IdempotencyStore(schema: dependencies.schema, client: dependencies.client, logger: dependencies.logger)
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
