import ArgumentParser
import ContactsService
import ERPBridgeService
import GatewayService
import MarketingService
import SalesService
import ServiceKit
import SupportService

/// The operator's command (`switchboard`). It logs in with the administrator credentials of
/// `SWITCHBOARD_PG_*` and `SWITCHBOARD_AMQP_*` and acts on one service's schema or queues.
public struct SwitchboardCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Operate a Switchboard installation.",
        subcommands: [MigrateCommand.self, BrokerCommand.self, DeadLettersCommand.self, OutboxCommand.self, BenchCommand.self, DemoCommand.self]
    )

    public init() {}

    /// Every service, by the name of its schema.
    static let services: [String: ServiceDefinition] = Dictionary(
        uniqueKeysWithValues: [
            ContactsService.definition, SalesService.definition, SupportService.definition,
            MarketingService.definition, ERPBridgeService.definition, GatewayService.definition,
        ].map { ($0.name, $0) }
    )

    static func service(_ name: String) throws -> ServiceDefinition {
        guard let definition = services[name] else {
            throw ValidationError("unknown service '\(name)'; one of: \(services.keys.sorted().joined(separator: ", "))")
        }
        return definition
    }
}
