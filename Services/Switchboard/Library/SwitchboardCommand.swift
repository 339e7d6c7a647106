import ArgumentParser
import Catalogue
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
        subcommands: [
            MigrateCommand.self, BrokerCommand.self, OpenAPICommand.self, DeadLettersCommand.self, OutboxCommand.self, IdentityCommand.self,
            ERPCommand.self,
            BenchCommand.self, DemoCommand.self,
        ]
    )

    public init() {}

    /// Every service's definition: one for each row of the service catalogue.
    static let definitions: [ServiceDefinition] = [
        ContactsService.definition, SalesService.definition, SupportService.definition,
        MarketingService.definition, ERPBridgeService.definition, GatewayService.definition,
    ]

    /// Every service, by the name of its schema.
    static let services: [String: ServiceDefinition] = {
        let named = Dictionary(uniqueKeysWithValues: definitions.map { ($0.name, $0) })
        precondition(
            Set(named.keys) == Set(ServiceCatalogue.all.map(\.name)),
            "the operator's definitions (\(named.keys.sorted())) are not the catalogue's services (\(ServiceCatalogue.all.map(\.name)))"
        )
        return named
    }()

    /// A service by its name (`erp_bridge`) or its executable's (`erp-bridge`).
    static func service(_ name: String) throws -> ServiceDefinition {
        let named = ServiceCatalogue.all.first { $0.executable == name }?.name ?? name
        guard let definition = services[named] else {
            throw ValidationError("unknown service '\(name)'; one of: \(services.keys.sorted().joined(separator: ", "))")
        }
        return definition
    }
}
