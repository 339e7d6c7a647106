import Foundation
import Messaging
import ServiceKit
import Storage

/// Staff users as a service in-process learns of them: the gateway's `identity.user.*` event (its
/// golden fixture, with this user's fields) applied by the service's own handler in a transaction,
/// as its consumer applies it. Owners must be such users.
public enum StaffFixture {
    /// A new active user in `service`'s copy of the staff; their id (lower case), which owner fields take.
    @discardableResult
    public static func user(
        _ definition: ServiceDefinition, _ service: ServiceDependencies, name: String = "Test Owner", email: String? = nil
    ) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let address = email ?? "\(TestEnvironment.uniqueName("owner"))@example.com".lowercased()
        try await apply("identity.user.created", to: definition, service, version: 1, ["id": id, "name": name, "email": address, "active": true])
        return id
    }

    /// The user deactivated, as the gateway reports it.
    public static func deactivate(_ id: String, email: String, version: Int = 2, _ definition: ServiceDefinition, _ service: ServiceDependencies) async throws {
        try await apply("identity.user.deactivated", to: definition, service, version: version, ["id": id, "email": email, "active": false])
    }

    private static func apply(
        _ type: String, to definition: ServiceDefinition, _ service: ServiceDependencies, version: Int, _ changes: [String: Any]
    ) async throws {
        var event = try EventFixtures.fixture(type)
        let eventId = UUID.timeOrdered().uuidString.lowercased()
        event.merge([
            "id": eventId, "correlation_id": eventId, "causation_id": NSNull(), "aggregate_id": changes["id"] ?? NSNull(),
            "aggregate_version": version,
            "data": (event["data"] as? [String: Any] ?? [:]).merging(changes.merging(["version": version]) { $1 }) { $1 },
        ]) { $1 }
        let envelope = try EventEnvelope.decode(Array(try JSONSerialization.data(withJSONObject: event)))
        guard let handler = definition.handlers(service).first(where: { $0.type == type }) else {
            throw TestFailure("\(definition.name) does not consume \(type)")
        }
        let (outbox, logger) = (service.outbox, service.logger)
        try await service.client.transaction(logger: logger) { connection in
            try await handler.apply(envelope, EventContext(connection: connection, outbox: outbox, logger: logger))
        }
    }
}
