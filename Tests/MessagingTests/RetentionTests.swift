import Foundation
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

@Suite("Outbox and inbox retention", .serialized, .timeLimit(.minutes(2)))
struct RetentionTests {
    @Test("published events and inbox rows past their retention go, in chunks; unpublished and recent ones stay")
    func prunes() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let aggregate = UUID()
            let events = try (1...5).map { try fixture.envelope(aggregate: aggregate, version: Int64($0)) }
            try await client.withTransaction(logger: TestEnvironment.logger) { connection in
                try await fixture.outbox.append(events, on: connection, logger: TestEnvironment.logger)
            }
            // 1–3: published, 8 days old. 4: unpublished, 8 days old. 5: published today.
            let outbox = fixture.schema.table("outbox")
            try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE \(outbox) SET created_at = now() - interval '8 days',
                            published_at = CASE WHEN aggregate_version <= 3 THEN now() - interval '8 days' END
                        WHERE aggregate_version <= 4
                        """
                )
            )
            try await client.query(PostgresQuery(unsafeSQL: "UPDATE \(outbox) SET published_at = now() WHERE aggregate_version = 5"))
            let inbox = fixture.schema.table("inbox")
            let (stale, fresh) = (UUID(), UUID())
            try await client.query(
                PostgresQuery(
                    unsafeSQL: "INSERT INTO \(inbox) (message_id, type, received_at) VALUES ($1, 't', now() - interval '31 days'), ($2, 't', now())",
                    binds: try .of(stale, fresh)
                )
            )

            var settings = Retention.Settings()
            settings.chunk = 2
            let pruned = try await Retention(schema: fixture.schema, client: client, settings: settings, logger: TestEnvironment.logger)
                .pruneOnce()
            #expect(pruned.outbox == 3)
            #expect(pruned.inbox == 1)
            var left: [Int64] = []
            for try await version in try await client.query(
                PostgresQuery(unsafeSQL: "SELECT aggregate_version FROM \(outbox) ORDER BY aggregate_version")
            ).decode(Int64.self) {
                left.append(version)
            }
            #expect(left == [4, 5], "the unpublished old event and the recent one stay")
            var ids: [UUID] = []
            for try await id in try await client.query(PostgresQuery(unsafeSQL: "SELECT message_id FROM \(inbox)")).decode(UUID.self) {
                ids.append(id)
            }
            #expect(ids == [fresh])
            try await fixture.drop()
        }
    }
}
