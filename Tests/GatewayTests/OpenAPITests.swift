import Foundation
@testable import GatewayService
import Hummingbird
import Logging
import PostgresNIO
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("OpenAPI document")
struct OpenAPITests {
    /// The gateway's router as the service builds it (nothing is called, so no server is needed).
    func registeredRoutes() throws -> Set<String> {
        let client = PostgresClient(configuration: TestEnvironment.database.clientConfiguration, backgroundLogger: TestEnvironment.logger)
        let schema = try SchemaName("gateway")
        let router = Router(context: ServiceRequestContext.self)
        GatewayRoutes(
            keys: APIKeyStore(schema: schema, client: client, adminKey: nil, logger: TestEnvironment.logger),
            idempotency: IdempotencyStore(schema: schema, client: client, logger: TestEnvironment.logger),
            upstreams: [:], logger: TestEnvironment.logger
        ).register(on: router)
        return Set(router.routes.map { "\($0.method.rawValue.lowercased()) \($0.path.description)" })
    }

    func documentedOperations() throws -> Set<String> {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(PackageResources.openapi_json)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var operations = Set<String>()
        for (path, methods) in paths {
            for method in methods.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                operations.insert("\(method) \(path)")
            }
        }
        return operations
    }

    @Test("every route the gateway registers is in the document, and the document names no route it lacks")
    func routesMatchDocument() throws {
        let registered = try registeredRoutes()
        let documented = try documentedOperations()
        #expect(registered.count >= 20)
        #expect(registered.subtracting(documented).sorted() == [], "registered but undocumented")
        #expect(documented.subtracting(registered).sorted() == [], "documented but not registered")
    }

    @Test("the running gateway serves the document without a key")
    func served() async throws {
        let answer = try await APIClient(key: nil).get("/api/v1/openapi.json")
        #expect(answer.status == 200)
        #expect(answer.json["openapi"] as? String == "3.1.0")
    }
}
