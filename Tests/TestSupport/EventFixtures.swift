import AMQP
import Foundation

/// The golden event fixtures under `Tests/ContractsTests/Fixtures/` (the documented contract of each
/// event type, where the services' AsyncAPI files point), and the queue an outside consumer binds
/// to see the live events. Here so that tests of a service in-process hold its outbox rows to the
/// same fixtures the end-to-end tests hold the live events to.
public enum EventFixtures {
    public static func url(_ type: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ContractsTests/Fixtures/\(type).json")
    }

    public static func fixture(_ type: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url(type))) as? [String: Any] else {
            throw TestFailure("the fixture of \(type) is not a JSON object")
        }
        return object
    }

    /// Keys of each object level, so a renamed or dropped member fails the test.
    public static func shape(_ value: Any, path: String = "") -> Set<String> {
        guard let object = value as? [String: Any] else { return [] }
        var keys = Set<String>()
        for (key, member) in object where key != "custom_fields" {
            keys.insert(path + key)
            if let nested = member as? [String: Any], ["data", "survivor"].contains(key) || path.isEmpty {
                keys.formUnion(shape(nested, path: path + key + "."))
            }
        }
        return keys
    }

    /// Takes (and acks) every message waiting in `queue`.
    public static func drain(_ queue: String) async throws -> [Delivery] {
        try await AMQPOneShot.run(TestEnvironment.broker()) { channel -> [Delivery] in
            var deliveries: [Delivery] = []
            while let delivery = try channel.get(queue: queue) {
                try channel.ack(delivery)
                deliveries.append(delivery)
            }
            return deliveries
        }
    }
}
