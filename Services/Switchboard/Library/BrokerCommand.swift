import AMQP
import ArgumentParser
import Foundation
import Messaging
import ServiceKit

struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker", abstract: "The RabbitMQ set-up the services rely on.",
        subcommands: [Definitions.self]
    )

    struct Definitions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print RabbitMQ definitions (for `rabbitmqctl import_definitions` or `load_definitions`): the vhost, "
                + "one user per service limited to its own queue, its own routing keys and the event types it consumes, the "
                + "administrator, the exchanges, and the dead-letter queues."
        )

        @Flag(help: "Write passwords and the vhost as compose.yaml's ${…} variables (and every other $ as $$), not from the environment.")
        var compose = false

        func run() async throws {
            print(try BrokerCommand.definitions(compose: compose))
        }
    }

    static let administrator = "switchboard_admin"

    /// The definitions as JSON text, the same for the same code: sorted keys, services in name order.
    static func definitions(compose: Bool) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let services = SwitchboardCommand.services.values.sorted { $0.name < $1.name }
        let vhost = compose ? "${SWITCHBOARD_AMQP_VHOST:-switchboard}" : (environment["SWITCHBOARD_AMQP_VHOST"] ?? "switchboard")
        // In compose.yaml a `$` starts a variable: a regex's `$` is written `$$`.
        func regex(_ text: String) -> String { compose ? text.replacingOccurrences(of: "$", with: "$$") : text }
        func password(_ variable: String) throws -> String {
            if compose { return "${\(variable)}" }
            guard let value = environment[variable], !value.isEmpty else { throw ValidationError("\(variable) is not set") }
            return value
        }

        var users: [[String: Any]] = []
        var permissions: [[String: Any]] = []
        var topicPermissions: [[String: Any]] = []
        for service in services {
            let access = try service.brokerAccess
            users.append(["name": service.name, "password": try password("SWITCHBOARD_\(service.name.uppercased())_PASSWORD"), "tags": []])
            permissions.append([
                "user": service.name, "vhost": vhost,
                "configure": regex(access.configure), "write": regex(access.write), "read": regex(access.read),
            ])
            topicPermissions.append([
                "user": service.name, "vhost": vhost, "exchange": CRMTopology.eventsExchange,
                "write": regex(access.topicWrite), "read": regex(access.topicRead),
            ])
            for topic in access.otherTopics {
                topicPermissions.append([
                    "user": service.name, "vhost": vhost, "exchange": topic.exchange, "write": regex(topic.write), "read": regex(topic.read),
                ])
            }
        }
        users.append(["name": administrator, "password": try password("SWITCHBOARD_ADMIN_PASSWORD"), "tags": ["administrator"]])
        permissions.append(["user": administrator, "vhost": vhost, "configure": ".*", "write": ".*", "read": ".*"])

        let shared = CRMTopology.shared(services: services.map(\.name))
        let definitions: [String: Any] = [
            "vhosts": [["name": vhost]],
            "users": users,
            "permissions": permissions,
            "topic_permissions": topicPermissions,
            "exchanges": shared.exchanges.map { exchange in
                [
                    "name": exchange.name, "vhost": vhost, "type": exchange.type, "durable": exchange.durable,
                    "auto_delete": false, "internal": false, "arguments": json(exchange.arguments),
                ] as [String: Any]
            },
            "queues": shared.queues.map { queue in
                ["name": queue.name, "vhost": vhost, "durable": queue.durable, "auto_delete": false, "arguments": json(queue.arguments)]
                    as [String: Any]
            },
            "bindings": shared.bindings.map { binding in
                [
                    "source": binding.exchange, "vhost": vhost, "destination": binding.queue, "destination_type": "queue",
                    "routing_key": binding.routingKey, "arguments": [String: Any](),
                ] as [String: Any]
            },
        ]
        // One object a line, so that a change shows as the lines it changes.
        func compact(_ value: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]), as: UTF8.self)
        }
        var sections: [String] = []
        for key in definitions.keys.sorted() {
            let items = try (definitions[key] as? [Any] ?? []).map { "    " + (try compact($0)) }
            sections.append("  \(try compact(key)): [\n\(items.joined(separator: ",\n"))\n  ]")
        }
        return "{\n\(sections.joined(separator: ",\n"))\n}"
    }

    private static func json(_ table: AMQPTable) -> [String: Any] {
        var result: [String: Any] = [:]
        for (key, value) in table {
            switch value {
            case let .string(text): result[key] = text
            case let .int(number): result[key] = number
            default: result[key] = "\(value)"
            }
        }
        return result
    }
}
