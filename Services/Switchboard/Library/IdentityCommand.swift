import ArgumentParser
import GatewayService

struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity", abstract: "The staff's users, as the gateway publishes them to the services.",
        subcommands: [PublishUsers.self]
    )

    struct PublishUsers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "publish-users",
            abstract: "Publish every user's current document once more (identity.user.updated), for a service that starts keeping a "
                + "copy of the staff after the users were made; copies that have a user already keep it as it is."
        )

        func run() async throws {
            let count = try await OperatorContext.withClient { client in
                try await GatewayService.publishUsers(client: client, logger: OperatorContext.logger)
            }
            print("\(count) user(s) queued for publishing")
        }
    }
}
