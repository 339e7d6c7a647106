import AMQP
import ArgumentParser
import Crypto
import ERPBridgeService
import Foundation
import Messaging
import NIOHTTP1
import ServiceKit

struct ERPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erp", abstract: "The back-office systems that publish orders to the ERP bridge (Services/ERPBridge/asyncapi.yaml).",
        subcommands: [AddSource.self, ListSources.self, RemoveSource.self, ResyncCustomers.self, Reconcile.self]
    )

    /// A source's broker user.
    static func user(_ source: String) -> String { "erp.\(source)" }

    static func validated(_ name: String) throws -> String {
        guard ERPOperations.isValidSourceName(name) else {
            throw ValidationError("a source's name is a lower-case letter, then up to 39 lower-case letters, digits or _")
        }
        return name
    }

    struct AddSource: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-source",
            abstract: "Record a source and create its RabbitMQ user, which may publish only to erp.inbound under NAME.… and read only "
                + "its queue erp.NAME (declared here, bound to erp.outbound with NAME.#). Prints the credentials, once."
        )
        @Argument(help: "The source's name: lower-case letters, digits and _.") var name: String

        func run() async throws {
            let name = try ERPCommand.validated(name)
            let management = RabbitMQManagement()
            let vhost = management.vhostPath
            let user = RabbitMQManagement.pathComponent(ERPCommand.user(name))
            let password = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
            let queue = CRMTopology.erpSourceQueue(name)
            let escapedName = BrokerAccess.escaped(name)
            try await OperatorContext.withClient { client in
                try await ERPOperations(client: client, logger: OperatorContext.logger).addSource(name) {
                    try await management.call(.PUT, "/api/users/\(user)", body: ["password": password, "tags": ""])
                    try await management.call(
                        .PUT, "/api/permissions/\(vhost)/\(user)",
                        body: ["configure": "^$", "write": "^\(BrokerAccess.escaped(CRMTopology.erpInboundExchange))$", "read": "^\(BrokerAccess.escaped(queue))$"]
                    )
                    try await management.call(
                        .PUT, "/api/topic-permissions/\(vhost)/\(user)",
                        body: ["exchange": CRMTopology.erpInboundExchange, "write": "^\(escapedName)\\.", "read": "^$"]
                    )
                    try await management.call(
                        .PUT, "/api/queues/\(vhost)/\(RabbitMQManagement.pathComponent(queue))",
                        body: ["durable": true, "auto_delete": false, "arguments": ["x-queue-type": "quorum"]]
                    )
                    try await management.call(
                        .POST, "/api/bindings/\(vhost)/e/\(CRMTopology.erpOutboundExchange)/q/\(RabbitMQManagement.pathComponent(queue))",
                        body: ["routing_key": "\(name).#", "arguments": [String: Any]()]
                    )
                }
            }
            let broker = SwitchboardEnvironment().broker(defaultUser: "switchboard_admin", connectionName: "")
            print("""
                source \(name) added. Its credentials (shown this once):
                  user      \(ERPCommand.user(name))
                  password  \(password)
                  broker    amqp://\(broker.host):\(broker.port), vhost \(broker.virtualHost)
                  publish   to exchange \(CRMTopology.erpInboundExchange), routing keys \(name).order, \(name).customer_ack, \(name).control
                  consume   queue \(queue): \(name).ack, \(name).customer, \(name).order_request, \(name).reconciliation
                """)
        }
    }

    struct ListSources: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list-sources", abstract: "The sources, their orders and their queues' depth.")

        func run() async throws {
            let sources = try await OperatorContext.withClient { client in
                try await ERPOperations(client: client, logger: OperatorContext.logger).sources()
            }
            let management = RabbitMQManagement()
            guard !sources.isEmpty else { return print("no sources; add one with `switchboard erp add-source NAME`") }
            for source in sources {
                var queue = "removed"
                if source.removedAt == nil {
                    let answer = try await management.call(
                        .GET, "/api/queues/\(management.vhostPath)/\(RabbitMQManagement.pathComponent(CRMTopology.erpSourceQueue(source.name)))",
                        allowing: [404]
                    )
                    let depth = (answer.body as? [String: Any])?["messages"] as? Int
                    queue = answer.status == 404 ? "queue missing" : "\(depth ?? 0) waiting in \(CRMTopology.erpSourceQueue(source.name))"
                }
                print("\(source.name)\tsince \(source.createdAt.formatted(.iso8601))\t\(source.orders) order(s)\t\(queue)")
            }
        }
    }

    struct RemoveSource: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-source",
            abstract: "Delete a source's RabbitMQ user and queue; its orders stay, and its messages are refused from then on."
        )
        @Argument var name: String

        func run() async throws {
            let name = try ERPCommand.validated(name)
            let management = RabbitMQManagement()
            try await OperatorContext.withClient { client in
                try await ERPOperations(client: client, logger: OperatorContext.logger).removeSource(name) {
                    try await management.call(.DELETE, "/api/users/\(RabbitMQManagement.pathComponent(ERPCommand.user(name)))", allowing: [404])
                    try await management.call(
                        .DELETE, "/api/queues/\(management.vhostPath)/\(RabbitMQManagement.pathComponent(CRMTopology.erpSourceQueue(name)))",
                        allowing: [404]
                    )
                }
            }
            print("source \(name) removed")
        }
    }

    struct ResyncCustomers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resync-customers",
            abstract: "Send the source every customer's master data (NAME.customer), or those changed since --since: an ERP's initial "
                + "load, and its repair."
        )
        @Argument var name: String
        @Option(help: "Only customers changed at or after this time (ISO 8601).") var since: String?

        func run() async throws {
            let name = try ERPCommand.validated(name)
            var sinceDate: Date?
            if let since {
                guard let date = try? Date(since, strategy: .iso8601) else { throw ValidationError("--since must be a time such as 2026-12-07T10:00:00Z") }
                sinceDate = date
            }
            let started = ContinuousClock.now
            let since = sinceDate
            let count = try await OperatorContext.withClient { client in
                try await ERPOperations(client: client, logger: OperatorContext.logger).resyncCustomers(source: name, since: since)
            }
            print("\(count) customer(s) queued for \(name) in \(ContinuousClock.now - started); the relay publishes them in order")
        }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reconcile",
            abstract: "Print the differences the source's last control totals (NAME.control) for a day showed."
        )
        @Argument var name: String
        @Option(help: "The day, as YYYY-MM-DD (orders by ordered_at in UTC).") var date: String

        func run() async throws {
            let name = try ERPCommand.validated(name)
            guard TextShapes.isISODate(date) else { throw ValidationError("--date must be a day such as 2026-12-07") }
            let day = date
            guard let report = try await OperatorContext.withClient({ client in
                try await ERPOperations(client: client, logger: OperatorContext.logger).reconciliation(source: name, day: day)
            }) else {
                throw ValidationError("\(name) sent no control totals for \(date) (\(name).control)")
            }
            let document = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any] ?? [:]
            print("\(name) \(date): \(document["result"] ?? "?"): the ERP holds \(document["erp_orders"] ?? 0) order(s), the CRM \(document["crm_orders"] ?? 0)")
            for difference in document["differences"] as? [[String: Any]] ?? [] {
                let number = difference["order_number"] as? String ?? "?"
                let kind = difference["kind"] as? String ?? "?"
                func show(_ side: String) -> String {
                    "version \(difference["\(side)_version"].map { "\($0)" } ?? "-"), \(difference["\(side)_status"] as? String ?? "-"), gross \(difference["\(side)_gross"] as? String ?? "-")"
                }
                print("  \(number)\t\(kind)\tERP: \(show("erp"))\tCRM: \(show("crm"))")
            }
        }
    }
}
