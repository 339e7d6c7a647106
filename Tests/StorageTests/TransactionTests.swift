import Foundation
import Logging
import PostgresNIO
import Storage
import Testing
import TestSupport

/// Why a create could be answered 201 and not be there (seen after `pg_ctl restart -m fast`), and
/// what keeps it from happening again.
@Suite("Transactions: success only once committed", .serialized, .timeLimit(.minutes(3)))
struct TransactionTests {
    /// A fresh schema with a parent and a child whose reference is checked at commit.
    func withSchema(_ body: (PostgresClient, SchemaName) async throws -> Void) async throws {
        try await TestEnvironment.withClient { client in
            let schema = try SchemaName(TestEnvironment.uniqueName("tx"))
            try await client.query(PostgresQuery(unsafeSQL: """
                CREATE SCHEMA \(schema.quoted);
                """))
            try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(schema.table("parent")) (id int PRIMARY KEY)"))
            try await client.query(PostgresQuery(unsafeSQL: """
                CREATE TABLE \(schema.table("child")) (id serial PRIMARY KEY,
                    parent int REFERENCES \(schema.table("parent")) DEFERRABLE INITIALLY DEFERRED)
                """))
            try await body(client, schema)
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"))
        }
    }

    func children(_ schema: SchemaName, _ client: PostgresClient) async throws -> Int {
        try await TestEnvironment.count("SELECT count(*)::int8 FROM \(schema.table("child"))", client)
    }

    @Test("the cause: a statement sent on its own hands back its rows before its commit, so a commit that fails after them goes unnoticed")
    func autocommitAnswersBeforeCommit() async throws {
        try await withSchema { client, schema in
            // The deferred reference fails at the commit, which PostgreSQL runs at the protocol's
            // Sync, after the row and CommandComplete are on their way: a stand-in for a backend
            // that a fast shutdown terminates between the two. postgres-nio ends the row stream at
            // CommandComplete.
            // Each try on a connection of its own, within a deadline: what postgres-nio makes of an
            // ERROR that follows CommandComplete varies (the row, an error, or a stream that never
            // ends), and a hang must not reach a pool.
            var outcomes: [String: Int] = [:]
            for attempt in 0..<20 {
                let connection = try await TestEnvironment.database.connect(id: attempt, logger: TestEnvironment.logger)
                let insert = PostgresQuery(unsafeSQL: "INSERT INTO \(schema.table("child")) (parent) VALUES (42) RETURNING id")
                do {
                    let answered = try await abandonable(limit: .seconds(3)) {
                        var answered: [Int] = []
                        for try await id in try await connection.query(insert, logger: TestEnvironment.logger).decode(Int.self) { answered.append(id) }
                        return answered
                    }
                    outcomes[answered.isEmpty ? "no rows" : "rows answered", default: 0] += 1
                } catch is DeadlineExceeded {
                    outcomes["no answer", default: 0] += 1
                } catch {
                    outcomes["error", default: 0] += 1
                }
                try? await connection.close()
            }
            // 20 of 20 answered their row here.
            #expect(outcomes["rows answered", default: 0] > 0, "the statement answered its row: \(outcomes)")
            #expect(try await children(schema, client) == 0, "yet nothing was stored")

            // The same statement in a transaction: COMMIT answers only once the commit is done.
            await #expect(throws: PSQLError.self) {
                try await client.transaction(logger: TestEnvironment.logger) { connection in
                    try await connection.texts(
                        PostgresQuery(unsafeSQL: "INSERT INTO \(schema.table("child")) (parent) VALUES (42) RETURNING id::text"),
                        logger: TestEnvironment.logger
                    )
                }
            }
            #expect(try await children(schema, client) == 0)
        }
    }

    @Test("a service's pool refuses a write sent outside a transaction, and takes it inside one")
    func servicePoolsAreReadOnly() async throws {
        try await withSchema { admin, schema in
            let client = PostgresClient(configuration: TestEnvironment.database.serviceClientConfiguration, backgroundLogger: TestEnvironment.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let insert = PostgresQuery(unsafeSQL: "INSERT INTO \(schema.table("parent")) (id) VALUES (1)")
                do {
                    try await client.query(insert)
                    Issue.record("a write outside a transaction was accepted")
                } catch let error as PSQLError {
                    #expect(error.serverInfo?[.sqlState] == "25006", "read-only transaction: \(String(reflecting: error))")
                }
                _ = try await client.write(
                    PostgresQuery(unsafeSQL: "INSERT INTO \(schema.table("parent")) (id) VALUES (1) RETURNING id::text"),
                    logger: TestEnvironment.logger
                )
                #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(schema.table("parent"))", admin) == 1)
            }
        }
    }

    @Test("a backend terminated between a transaction's statement and its commit: a database fault, never a success")
    func terminatedBeforeCommit() async throws {
        try await withSchema { admin, schema in
            try await client(application: "tx-terminated") { client throws in
                do {
                    try await client.transaction(logger: TestEnvironment.logger) { connection in
                        try await connection.query(
                            PostgresQuery(unsafeSQL: "INSERT INTO \(schema.table("parent")) (id) VALUES (7)"), logger: TestEnvironment.logger
                        )
                        let pid = try await connection.texts("SELECT pg_backend_pid()::text", logger: TestEnvironment.logger)[0]
                        try await admin.query(PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(\(pid))"))
                    }
                    Issue.record("a transaction whose backend was terminated before COMMIT succeeded")
                } catch {
                    #expect(error is DatabaseFault, "\(String(reflecting: error))")
                }
                #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(schema.table("parent"))", admin) == 0)
            }
        }
    }

    @Test("backends terminated at random under load: every transaction answered as committed is there, and none answered as failed is")
    func terminatedUnderLoad() async throws {
        try await withSchema { admin, schema in
            let application = TestEnvironment.uniqueName("tx-load")
            try await client(application: application) { client throws in
                var answered: [Int: String] = [:]
                try await withThrowingTaskGroup(of: [Int: String].self) { group in
                    for worker in 0..<8 {
                        group.addTask {
                            var outcomes: [Int: String] = [:]
                            for attempt in 0..<60 {
                                let id = worker * 1_000 + attempt
                                do {
                                    try await client.transaction(logger: TestEnvironment.logger) { connection in
                                        try await connection.query(
                                            PostgresQuery(unsafeSQL: "INSERT INTO \(schema.table("parent")) (id) VALUES (\(id))"),
                                            logger: TestEnvironment.logger
                                        )
                                        try await connection.query("SELECT pg_sleep(0.002)", logger: TestEnvironment.logger)
                                    }
                                    outcomes[id] = "committed"
                                } catch DatabaseFault.commitOutcomeUnknown {
                                    outcomes[id] = "unknown"
                                } catch DatabaseFault.unavailable {
                                    outcomes[id] = "failed"
                                } catch {
                                    outcomes[id] = "other: \(String(reflecting: error))"
                                }
                            }
                            return outcomes
                        }
                    }
                    let killer = Task {
                        while !Task.isCancelled {
                            try await admin.query(PostgresQuery(unsafeSQL: """
                                SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                WHERE application_name = '\(application)' ORDER BY random() LIMIT 1
                                """))
                            try await Task.sleep(for: .milliseconds(15))
                        }
                    }
                    for try await outcomes in group { answered.merge(outcomes) { first, _ in first } }
                    killer.cancel()
                }
                let stored = try await admin.query(PostgresQuery(unsafeSQL: "SELECT id FROM \(schema.table("parent"))"))
                    .decode(Int.self).reduce(into: Set<Int>()) { $0.insert($1) }
                let committed = Set(answered.filter { $0.value == "committed" }.keys)
                let failed = Set(answered.filter { $0.value == "failed" }.keys)
                #expect(answered.count == 480)
                #expect(committed.isSubset(of: stored), "committed but missing: \(committed.subtracting(stored).sorted())")
                #expect(failed.isDisjoint(with: stored), "answered as failed but stored: \(failed.intersection(stored).sorted())")
                #expect(answered.values.allSatisfy { !$0.hasPrefix("other") }, "\(answered.values.filter { $0.hasPrefix("other") })")
                #expect(answered.count > committed.count, "the killer terminated some transactions")
            }
        }
    }

    @Test("a body that catches a failed statement and goes on: PostgreSQL answers its COMMIT with ROLLBACK, which is no success")
    func commitAnsweredRollback() async throws {
        try await withSchema { client, schema throws in
            await #expect(throws: TransactionRolledBack.self) {
                try await client.transaction(logger: TestEnvironment.logger) { connection in
                    try await connection.query(
                        PostgresQuery(unsafeSQL: "INSERT INTO \(schema.table("parent")) (id) VALUES (1)"), logger: TestEnvironment.logger
                    )
                    _ = try? await connection.query("SELECT 1 / 0", logger: TestEnvironment.logger)
                }
            }
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(schema.table("parent"))", client) == 0)
        }
    }

    @Test("an operation on a connection that closed while idle fails at once instead of waiting forever")
    func guardedOnClosedConnection() async throws {
        try await TestEnvironment.withClient { admin in
            let connection = try await TestEnvironment.database.connect(id: 1, logger: TestEnvironment.logger)
            let pid = try await connection.texts("SELECT pg_backend_pid()::text", logger: TestEnvironment.logger)[0]
            try await admin.query(PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(\(pid))"))
            #expect(try await TestEnvironment.eventually(timeout: .seconds(5)) { connection.isClosed })
            try await Task.sleep(for: .milliseconds(200))  // past the channel's teardown
            let started = ContinuousClock.now
            do {
                _ = try await abandonable(limit: .seconds(10)) {
                    try await connection.guarded { try await $0.texts("SELECT 1::text", logger: TestEnvironment.logger) }
                }
                Issue.record("a query on a closed connection answered")
            } catch {
                #expect(error is ConnectionLost, "\(String(reflecting: error))")
            }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    @Test("abandonable: the operation's result, a deadline, and the caller's cancellation")
    func abandonableBasics() async throws {
        #expect(try await abandonable(limit: .seconds(5)) { 42 } == 42)
        await #expect(throws: DeadlineExceeded.self) {
            try await abandonable(limit: .milliseconds(100)) { try await Task.sleep(for: .seconds(30)) }
        }
        let task = Task { try await abandonable { try await Task.sleep(for: .seconds(30)) } }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    /// A service-like pool (read-only sessions) whose backends carry `application` as their name.
    func client(application: String, _ body: (PostgresClient) async throws -> Void) async throws {
        var configuration = TestEnvironment.database.serviceClientConfiguration
        configuration.options.additionalStartupParameters.append(("application_name", application))
        let client = PostgresClient(configuration: configuration, backgroundLogger: TestEnvironment.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await body(client)
        }
    }
}

