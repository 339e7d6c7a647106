import ArgumentParser
import Foundation
import PostgresNIO
import ServiceKit
import Storage

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Work with a service's outbox, which is also its event log.",
        subcommands: [Replay.self]
    )

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish again every event the service recorded since TIME (consumers' inboxes drop duplicates)."
        )

        @Argument var service: String
        @Option(help: "RFC 3339 time, e.g. 2026-11-22T10:00:00Z.") var since: String

        func run() async throws {
            let definition = try SwitchboardCommand.service(service)
            guard let time = try? Date.ISO8601FormatStyle().parse(since) else {
                throw ValidationError("--since must be an RFC 3339 time such as 2026-11-22T10:00:00Z")
            }
            let schema = try SchemaName(definition.name)
            let count = try await OperatorContext.withClient { client in
                let rows = try await client.query(
                    PostgresQuery(
                        unsafeSQL: """
                            WITH replayed AS (
                                UPDATE \(schema.table("outbox")) SET published_at = NULL
                                WHERE created_at >= $1 AND published_at IS NOT NULL RETURNING 1)
                            SELECT count(*)::int8 FROM replayed
                            """,
                        binds: try .of(time)
                    ),
                    logger: OperatorContext.logger
                )
                var count: Int64 = 0
                for try await value in rows.decode(Int64.self) { count = value }
                try await client.query("SELECT pg_notify(\("outbox_\(schema.rawValue)"), '')", logger: OperatorContext.logger)
                return count
            }
            print("\(count) event(s) of \(service) since \(since) queued for publishing again")
        }
    }
}
