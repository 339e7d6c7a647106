import AMQP
import Foundation
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Runs `body` while the fixture's relay and event consumer run; stops them afterwards.
func withPipeline(
    _ fixture: MessagingFixture, handlers: [EventHandler]? = nil, relayBatchSize: Int = 500,
    _ body: (AMQPConsumer) async throws -> Void
) async throws {
    let publisher = fixture.publisher()
    let consumer = fixture.consumer()
    let relay = fixture.relay(publisher, batchSize: relayBatchSize)
    let eventConsumer = EventConsumer(
        service: fixture.service, schema: fixture.schema, client: fixture.client, consumer: consumer,
        publisher: publisher, handlers: handlers ?? [fixture.projectionHandler], logger: TestEnvironment.logger
    )
    try await fixture.waitUntilBound(consumer)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await relay.run() }
        group.addTask { try await eventConsumer.run() }
        defer { group.cancelAll() }
        try await body(consumer)
    }
    await consumer.close()
    await publisher.close()
}

@Suite("Outbox to consumer", .serialized, .timeLimit(.minutes(3)))
struct OutboxToConsumerTests {
    @Test("10,000 events from concurrent transactions arrive, each applied once, in version order per aggregate")
    func tenThousandInOrder() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            let aggregates = (0..<50).map { _ in UUID() }
            try await withPipeline(fixture) { _ in
                // 8 writers, 125 transactions each of 10 events on random aggregates: they contend for rows.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            for _ in 0..<125 {
                                let picked = (0..<10).map { _ in aggregates.randomElement()! }
                                try await fixture.appendChanges(to: Array(Set(picked)).sorted { $0.uuidString < $1.uuidString })
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let total = try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("outbox"))", client)
                #expect(total > 9_000, "distinct aggregates per transaction: \(total) events")
                let done = try await TestEnvironment.eventually(timeout: .seconds(120)) {
                    try await TestEnvironment.count(
                        "SELECT coalesce(sum(applied), 0)::int8 FROM \(fixture.schema.table("projection"))", client
                    ) >= total
                }
                #expect(done)
                #expect(
                    try await TestEnvironment.count(
                        "SELECT coalesce(sum(applied), 0)::int8 FROM \(fixture.schema.table("projection"))", client
                    ) == total
                )
                #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("inbox"))", client) == total)
                #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("out_of_order"))", client) == 0)
                #expect(
                    try await TestEnvironment.count(
                        "SELECT count(*)::int8 FROM \(fixture.schema.table("outbox")) WHERE published_at IS NULL", client
                    ) == 0
                )
                // The projection ends at each aggregate's last version.
                #expect(
                    try await TestEnvironment.count(
                        """
                        SELECT count(*)::int8 FROM \(fixture.schema.table("things")) t
                        JOIN \(fixture.schema.table("projection")) p USING (id) WHERE p.version <> t.version
                        """,
                        client
                    ) == 0
                )
            }
            try await fixture.drop()
        }
    }

    @Test("a relay's batches reach the broker in the order it read them, though two are in flight at once")
    func batchesInOrder() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            // Written before the relay starts, so every fetch is full and the next follows at once:
            // 300 batches of 10, each aggregate's versions spread over all of them.
            let aggregates = (0..<5).map { _ in UUID() }
            for _ in 0..<600 { try await fixture.appendChanges(to: aggregates) }
            let total = 3_000
            try await withPipeline(fixture, relayBatchSize: 10) { _ in
                let done = try await TestEnvironment.eventually(timeout: .seconds(120)) {
                    try await TestEnvironment.count(
                        "SELECT coalesce(sum(applied), 0)::int8 FROM \(fixture.schema.table("projection"))", client
                    ) >= total
                }
                #expect(done)
                #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(fixture.schema.table("out_of_order"))", client) == 0)
            }
            try await fixture.drop()
        }
    }
}
