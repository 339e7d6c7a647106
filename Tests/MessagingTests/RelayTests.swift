import AMQP
import Foundation
import Messaging
import PostgresNIO
import Storage
import Synchronization
import Testing
import TestSupport

@Suite("Outbox relay: crash and leadership", .serialized, .timeLimit(.minutes(3)))
struct RelayTests {
    func unpublished(_ fixture: MessagingFixture) async throws -> Int {
        try await TestEnvironment.count(
            "SELECT count(*)::int8 FROM \(fixture.schema.table("outbox")) WHERE published_at IS NULL", fixture.client
        )
    }

    func startProbe(_ fixture: MessagingFixture) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(TestEnvironment.binPath)/MessagingProbe")
        process.arguments = ["relay", fixture.schema.rawValue]
        try process.run()
        return process
    }

    @Test("a relay killed with SIGKILL mid-batch: after a restart every event arrives, duplicates absorbed")
    func killedRelay() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let aggregates = (0..<20).map { _ in UUID() }
            for _ in 0..<300 { try await fixture.appendChanges(to: aggregates) }
            let total = 6_000
            #expect(try await unpublished(fixture) == total)

            let publisher = fixture.publisher()
            let consumer = fixture.consumer()
            try await fixture.waitUntilBound(consumer)
            let eventConsumer = EventConsumer(
                service: fixture.service, schema: fixture.schema, client: client, consumer: consumer,
                publisher: publisher, handlers: [fixture.projectionHandler], logger: TestEnvironment.logger
            )
            let consuming = Task { try await eventConsumer.run() }

            let first = try startProbe(fixture)
            let started = try await TestEnvironment.eventually(timeout: .seconds(60), every: .milliseconds(5)) {
                try await unpublished(fixture) < total
            }
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
            let left = try await unpublished(fixture)
            #expect(started)
            #expect(left > 0, "the relay should have been killed before it finished")

            let second = try startProbe(fixture)
            defer {
                second.terminate()
                second.waitUntilExit()
            }
            let drained = try await TestEnvironment.eventually(timeout: .seconds(90)) {
                try await TestEnvironment.count(
                    "SELECT coalesce(sum(applied), 0)::int8 FROM \(fixture.schema.table("projection"))", client
                ) >= total
            }
            #expect(drained)
            #expect(try await unpublished(fixture) == 0)
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("inbox"))", client) == total)
            #expect(
                try await TestEnvironment.count("SELECT sum(applied)::int8 FROM \(fixture.schema.table("projection"))", client)
                    == total
            )
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("out_of_order"))", client) == 0)
            consuming.cancel()
            await consumer.close()
            await publisher.close()
            try await fixture.drop()
        }
    }

    @Test("two relays on one schema: only the leader publishes; when it stops the other takes over")
    func leaderElection() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let consumer = fixture.consumer()
            try await fixture.waitUntilBound(consumer)
            let firstPublisher = fixture.publisher()
            let secondPublisher = fixture.publisher()
            let first = fixture.relay(firstPublisher)
            let second = fixture.relay(secondPublisher)
            let firstTask = Task { try await first.run() }
            let secondTask = Task { try await second.run() }
            defer { secondTask.cancel() }

            #expect(try await TestEnvironment.eventually(timeout: .seconds(10)) { first.status.isLeader || second.status.isLeader })
            try await Task.sleep(for: .milliseconds(500))
            #expect(first.status.isLeader != second.status.isLeader, "exactly one leader")
            let (leaderTask, follower) = first.status.isLeader ? (firstTask, second) : (secondTask, first)

            let aggregate = UUID()
            try await fixture.appendChanges(to: [aggregate])
            #expect(try await TestEnvironment.eventually { try await unpublished(fixture) == 0 })
            #expect(!follower.status.isLeader)

            leaderTask.cancel()
            #expect(try await TestEnvironment.eventually(timeout: .seconds(15)) { follower.status.isLeader })
            try await fixture.appendChanges(to: [aggregate])
            #expect(try await TestEnvironment.eventually { try await unpublished(fixture) == 0 })

            // Both events reached the queue, in order.
            var versions: [Int64] = []
            for await delivery in consumer.deliveries {
                versions.append(try EventEnvelope.decode(delivery.body).aggregateVersion)
                consumer.ack(delivery)
                if versions.count == 2 { break }
            }
            #expect(versions == [1, 2])
            firstTask.cancel()
            await consumer.close()
            await firstPublisher.close()
            await secondPublisher.close()
            try await fixture.drop()
        }
    }

    /// Runs `body` while a relay leads on a fresh schema; then stops it and drops the schema.
    func withLeadingRelay(_ body: (MessagingFixture, OutboxRelay) async throws -> Void) async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let publisher = fixture.publisher()
            let relay = fixture.relay(publisher)
            let task = Task { try await relay.run() }
            #expect(try await TestEnvironment.eventually(timeout: .seconds(10)) { relay.status.isLeader })
            try await body(fixture, relay)
            task.cancel()
            await publisher.close()
            try await fixture.drop()
        }
    }

    @Test("rows that commit without a NOTIFY still go out: the relay polls while it waits")
    func pollsWithoutNotify() async throws {
        try await withLeadingRelay { fixture, _ in
            for version in 1...3 {
                // appendEvents alone, without the notification a service's statement joins in.
                var sql = SQLBuilder()
                sql.append("WITH source AS (SELECT \(try sql.bind(UUID()))::uuid AS aggregate_id, \(version)::int8 AS aggregate_version, '{}'::jsonb AS data) ")
                try fixture.outbox.appendEvents(from: "source", type: fixture.eventType, producer: fixture.service, into: &sql)
                try await fixture.client.query(sql.query)
                #expect(
                    try await TestEnvironment.eventually(timeout: .seconds(5)) { try await unpublished(fixture) == 0 },
                    "event \(version) waited for a poll (every second) and went out"
                )
            }
        }
    }

    @Test("the leader's connection terminated (pg_terminate_backend): it leads again within seconds and publishes")
    func terminatedLeader() async throws {
        try await withLeadingRelay { fixture, relay in
            let holders = """
                SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                AND ((classid::int8 << 32) | objid::int8) = hashtext('switchboard.relay.\(fixture.schema.rawValue)')::int8
                """
            let before = try await fixture.client.query(PostgresQuery(unsafeSQL: holders)).decode(Int32.self).reduce(into: [Int32]()) { $0.append($1) }
            try #require(before.count == 1, "the leader holds the lock")
            for round in 1...3 {
                try await fixture.client.query(PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM (\(holders)) h"))
                try await fixture.appendChanges(to: [UUID()])
                #expect(
                    try await TestEnvironment.eventually(timeout: .seconds(5), every: .milliseconds(50)) { try await unpublished(fixture) == 0 },
                    "round \(round): the event went out within 5 s of the termination"
                )
                #expect(relay.status.isLeader)
            }
            let after = try await fixture.client.query(PostgresQuery(unsafeSQL: holders)).decode(Int32.self).reduce(into: [Int32]()) { $0.append($1) }
            #expect(after.count == 1 && after != before, "a new connection holds the lock")
        }
    }

    @Test("a mark that fails ends the leadership with the error; once marks succeed again, every event is marked")
    func failedMarkEndsLeadership() async throws {
        try await withLeadingRelay { fixture, relay in
            #expect(relay.status.lastError == nil)
            // Every mark now fails; the publish before it still succeeds.
            let outbox = fixture.schema.table("outbox")
            try await fixture.client.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(outbox) ADD CONSTRAINT never_marked CHECK (published_at IS NULL) NOT VALID"))
            try await fixture.appendChanges(to: [UUID(), UUID()])
            #expect(
                try await TestEnvironment.eventually(timeout: .seconds(10)) { relay.status.lastError != nil },
                "the failed mark reached the relay's status instead of waiting in its task group"
            )
            #expect(try await unpublished(fixture) == 2)
            try await fixture.client.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(outbox) DROP CONSTRAINT never_marked"))
            #expect(try await TestEnvironment.eventually(timeout: .seconds(10)) { try await unpublished(fixture) == 0 })
            #expect(try await TestEnvironment.eventually(timeout: .seconds(10)) { relay.status.isLeader })
        }
    }
}
