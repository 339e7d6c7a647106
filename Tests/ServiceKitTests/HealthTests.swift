import AMQP
import Foundation
import Hummingbird
import HummingbirdTesting
import Messaging
import PostgresNIO
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("Health endpoints", .serialized, .timeLimit(.minutes(1)))
struct HealthTests {
    struct Report: Decodable {
        var status: String
        var checks: [String: String]
    }

    func router(publisher: AMQPPublisher, client: PostgresClient) throws -> Router<BasicRequestContext> {
        let relay = OutboxRelay(
            schema: try SchemaName("contacts"), producer: "contacts", database: TestEnvironment.database, client: client,
            publisher: publisher, logger: TestEnvironment.logger
        )
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware())
        HealthChecks(publisher: publisher, consumer: nil, relay: relay, registry: nil).register(on: router)
        return router
    }

    @Test("live answers 200; ready answers 200 with every check ok when database and broker are up")
    func ready() async throws {
        try await TestEnvironment.withClient { client in
            let publisher = AMQPPublisher(configuration: TestEnvironment.broker(), logger: TestEnvironment.logger)
            _ = try await TestEnvironment.eventually(timeout: .seconds(10)) { publisher.isConnected }
            let app = Application(router: try router(publisher: publisher, client: client))
            try await app.test(.router) { client in
                try await client.execute(uri: "/health/live", method: .get) { response in
                    #expect(response.status == .ok)
                }
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .ok)
                    let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                    #expect(report.status == "ready")
                    #expect(report.checks == ["database": "ok", "broker_publish": "ok", "outbox_lag": "ok"])
                }
            }
            await publisher.close()
        }
    }

    @Test("ready answers 503 while the outbox lags and no relay can lead, saying so, and the lag gauge is read anew")
    func laggingWithoutLeader() async throws {
        try await TestEnvironment.withClient { client in
            let schema = try SchemaName(TestEnvironment.uniqueName("lag"))
            try await Migrator(schema: schema, sql: MessagingMigrations.sql).migrate(client, logger: TestEnvironment.logger)
            let publisher = AMQPPublisher(configuration: TestEnvironment.broker(), logger: TestEnvironment.logger)
            // A relay whose database cannot be reached never leads.
            var unreachable = TestEnvironment.database
            unreachable.port = 1
            let relay = OutboxRelay(
                schema: schema, producer: "lag", database: unreachable, client: client, publisher: publisher, logger: TestEnvironment.logger
            )
            let relaying = Task { try await relay.run() }
            #expect(try await TestEnvironment.eventually(timeout: .seconds(10)) { relay.status.lastError != nil })
            try await client.query(PostgresQuery(unsafeSQL: """
                INSERT INTO \(schema.table("outbox")) (id, type, aggregate_id, aggregate_version, payload, created_at)
                VALUES (gen_random_uuid(), 'lag.thing.changed', gen_random_uuid(), 1, '{}', now() - interval '90 seconds')
                """))
            let router = Router()
            HealthChecks(publisher: publisher, consumer: nil, relay: relay, registry: nil, maximumOutboxLag: .seconds(30))
                .register(on: router)
            try await Application(router: router).test(.router) { http in
                try await http.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                    let lag = report.checks["outbox_lag"] ?? ""
                    #expect(lag.contains("s old") && lag.contains("no relay leads") && lag.contains("last failure"), "\(lag)")
                }
            }
            let reading = try await relay.read()
            #expect(reading.lag >= .seconds(89) && !reading.someoneLeads)
            relaying.cancel()
            await publisher.close()
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"))
        }
    }

    @Test("ready answers 503 and names the broker when it cannot be reached")
    func brokerDown() async throws {
        try await TestEnvironment.withClient { client in
            var unreachable = TestEnvironment.broker()
            unreachable.port = 1
            let publisher = AMQPPublisher(configuration: unreachable, logger: TestEnvironment.logger)
            let app = Application(router: try router(publisher: publisher, client: client))
            try await app.test(.router) { client in
                try await client.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let report = try JSONDecoder().decode(Report.self, from: Data(response.body.readableBytesView))
                    #expect(report.checks["broker_publish"] == "not connected")
                    #expect(report.checks["database"] == "ok")
                }
            }
            await publisher.close(grace: .zero)
        }
    }
}
