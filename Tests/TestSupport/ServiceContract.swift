import APISources
import Foundation
import Hummingbird
import PostgresNIO
import ServiceKit
import Storage

/// A service's routes held to its contract: what `definition.routes` registers against the
/// operations its `openapi.yaml` describes.
public enum ServiceContract {
    /// The checkout these tests were built from.
    public static let source = APISource(
        root: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    )

    /// The routes a service registers (its health and metrics routes aside), as
    /// `get /api/v1/contacts/{id}`. Nothing is called, so its database client never runs.
    public static func registeredOperations(_ definition: ServiceDefinition) throws -> Set<String> {
        let client = PostgresClient(configuration: TestEnvironment.database.serviceClientConfiguration, backgroundLogger: TestEnvironment.logger)
        let router = Router(context: ServiceRequestContext.self)
        definition.routes(router, ServiceDependencies(schema: try SchemaName(definition.name), client: client, logger: TestEnvironment.logger))
        return Set(router.routes.map { "\($0.method.rawValue.lowercased()) \($0.path.description)" })
    }

    /// The operations `Services/<folder>/openapi.yaml` describes, internal ones included.
    public static func documentedOperations(_ folder: String) throws -> Set<String> {
        APISource.operations(of: try source.load(APISource.openAPI(folder)))
    }
}

extension ServiceContract {
    /// A service's routes against its document: what is registered but not described, and
    /// described but not registered (both empty when they agree), and how many are registered.
    public static func compare(_ definition: ServiceDefinition, folder: String) throws -> (undescribed: [String], unregistered: [String], count: Int) {
        let registered = try registeredOperations(definition)
        let documented = try documentedOperations(folder)
        return (registered.subtracting(documented).sorted(), documented.subtracting(registered).sorted(), registered.count)
    }
}
