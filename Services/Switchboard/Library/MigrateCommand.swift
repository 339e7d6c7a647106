import ArgumentParser
import Messaging
import ServiceKit
import Storage

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending migrations of the named services (all when none is named)."
    )

    @Argument(help: "Services to migrate, by schema name.")
    var services: [String] = []

    func run() async throws {
        let names = services.isEmpty ? SwitchboardCommand.services.keys.sorted() : services
        let definitions = try names.map { try SwitchboardCommand.service($0) }
        try await OperatorContext.withClient { client in
            for definition in definitions {
                let schema = try SchemaName(definition.name)
                let applied = try await Migrator(schema: schema, sql: CommonSQL.schema(of: definition))
                    .migrate(client, as: schema, logger: OperatorContext.logger)
                print("\(definition.name): \(applied.isEmpty ? "up to date" : "applied \(applied.map(String.init).joined(separator: ", "))")")
            }
        }
    }
}
