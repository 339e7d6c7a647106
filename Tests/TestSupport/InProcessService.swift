import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import ServiceKit
import Storage

/// A service driven in this process, as its tests need it: a schema of the test's own migrated
/// with the service's SQL, a pool with the sessions a service has (read-only outside
/// transactions), the router `ServiceRunner` builds (the same middleware, the same routes), and
/// the service's own loops; no broker, no relay, no consumer. Events it writes are outbox rows,
/// for the test to read in SQL. Requests carry the gateway's caller header, as the admin.
public enum InProcessService {
    public static func run(
        _ definition: ServiceDefinition, runLoops: Bool = true,
        _ body: @Sendable (APIClient, ServiceDependencies) async throws -> Void
    ) async throws {
        let schema = try SchemaName(TestEnvironment.uniqueName(definition.name))
        let client = PostgresClient(configuration: TestEnvironment.database.serviceClientConfiguration, backgroundLogger: TestEnvironment.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await Migrator(schema: schema, sql: CommonSQL.schema(of: definition)).migrate(client, logger: TestEnvironment.logger)
            let dependencies = ServiceDependencies(schema: schema, client: client, logger: TestEnvironment.logger)
            let app = Application(
                responder: ServiceRunner.responder(definition, dependencies, gatewayToken: nil),
                services: runLoops ? definition.services(dependencies) : [], logger: TestEnvironment.logger
            )
            do {
                try await app.test(.router) { http in
                    var api = APIClient(key: nil)
                    api.baseURL = "in-process \(definition.name)"
                    api.transport = { method, path, headers, body in
                        var fields = HTTPFields()
                        fields[HTTPField.Name("X-Switchboard-Caller")!] = "admin admin"
                        for (name, value) in headers { if let name = HTTPField.Name(name) { fields[name] = value } }
                        let response = try await http.execute(
                            uri: path, method: HTTPRequest.Method(rawValue: method) ?? .get, headers: fields, body: body.map { ByteBuffer(bytes: $0) }
                        )
                        var headers: [String: String] = [:]
                        for field in response.headers { headers[field.name.canonicalName] = field.value }
                        return APIClient.Answer(status: Int(response.status.code), headers: headers, body: Data(response.body.readableBytesView))
                    }
                    try await body(api, dependencies)
                }
            } catch {
                try? await drop(schema, client)
                throw error
            }
            try await drop(schema, client)
        }
    }

    static func drop(_ schema: SchemaName, _ client: PostgresClient) async throws {
        _ = try await client.write(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"), logger: TestEnvironment.logger)
    }
}

extension ServiceDependencies {
    /// A service's dependencies on a test's own schema, for a store made directly.
    public static func testing(_ schema: SchemaName, _ client: PostgresClient) -> ServiceDependencies {
        ServiceDependencies(schema: schema, client: client, logger: TestEnvironment.logger)
    }
}
