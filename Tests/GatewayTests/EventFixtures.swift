import AMQP
import Foundation
import Testing
import TestSupport

/// The golden event fixtures under `Fixtures/` (the documented contract of each event type), and
/// the queue an outside consumer binds to see the live events.
enum EventFixtures {
    static func url(_ type: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(type).json")
    }

    static func fixture(_ type: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url(type))) as? [String: Any])
    }

    /// Keys of each object level, so a renamed or dropped member fails the test.
    static func shape(_ value: Any, path: String = "") -> Set<String> {
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
    static func drain(_ queue: String) async throws -> [Delivery] {
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
