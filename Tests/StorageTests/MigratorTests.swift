import Foundation
import PostgresNIO
import Storage
import Testing
import TestSupport

@Suite("Migrator", .serialized, .timeLimit(.minutes(2)))
struct MigratorTests {
    static func migrations(insert value: String = "first") -> [Migration] {
        [
            Migration(version: 100, name: "create", sql: "CREATE TABLE things (id serial PRIMARY KEY, note text);"),
            Migration(
                version: 101, name: "seed",
                sql: """
                    -- a comment; with a semicolon
                    INSERT INTO things (note) VALUES ('\(value); with semicolon');
                    CREATE FUNCTION things_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM things; $$;
                    """
            ),
        ]
    }

    @Test("two migrators started at once apply each migration once")
    func concurrentMigrators() async throws {
        let schema = try SchemaName(TestEnvironment.uniqueName("mig"))
        try await TestEnvironment.withClient { client in
            let migrator = Migrator(schema: schema, migrations: Self.migrations())
            async let first = migrator.migrate(client, logger: TestEnvironment.logger)
            async let second = migrator.migrate(client, logger: TestEnvironment.logger)
            let applied = try await [first, second]
            #expect(applied.contains([100, 101]))
            #expect(applied.contains([]))
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM \(schema.table("things"))", client) == 1)
            #expect(
                try await TestEnvironment.count("SELECT count(*)::int8 FROM \(schema.table("schema_migrations"))", client) == 2
            )
            let note = try await client.query(PostgresQuery(unsafeSQL: "SELECT note FROM \(schema.table("things"))"))
                .decode(String.self).reduce(into: []) { $0.append($1) }
            #expect(note == ["first; with semicolon"])
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"))
        }
    }

    @Test("a changed migration that was already applied fails loudly")
    func changedMigrationFails() async throws {
        let schema = try SchemaName(TestEnvironment.uniqueName("mig"))
        try await TestEnvironment.withClient { client in
            try await Migrator(schema: schema, migrations: Self.migrations()).migrate(client, logger: TestEnvironment.logger)
            let error = await #expect(throws: StorageError.self) {
                try await Migrator(schema: schema, migrations: Self.migrations(insert: "changed"))
                    .migrate(client, logger: TestEnvironment.logger)
            }
            guard case let .migrationChanged(_, version, name, _, _) = error else {
                Issue.record("expected migrationChanged, got \(String(describing: error))")
                return
            }
            #expect(version == 101)
            #expect(name == "seed")
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"))
        }
    }

    @Test("a migration edited after it was applied passes if its text names the checksum it was applied with")
    func earlierChecksum() async throws {
        let schema = try SchemaName(TestEnvironment.uniqueName("mig"))
        try await TestEnvironment.withClient { client in
            try await Migrator(schema: schema, migrations: Self.migrations()).migrate(client, logger: TestEnvironment.logger)
            let recorded = try await client.query(PostgresQuery(unsafeSQL: "SELECT checksum FROM \(schema.table("schema_migrations")) WHERE version = 101"))
                .decode(String.self).reduce(into: "") { $0 = $1 }
            var edited = Self.migrations(insert: "changed")
            edited[1].sql = "-- databases that applied it before recorded md5 \(recorded).\n" + edited[1].sql
            #expect(edited[1].earlierChecksums == [recorded])
            try await Migrator(schema: schema, migrations: edited).migrate(client, logger: TestEnvironment.logger)
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"))
        }
    }

    @Test("a failing migration names itself and leaves nothing applied")
    func failingMigrationRollsBack() async throws {
        let schema = try SchemaName(TestEnvironment.uniqueName("mig"))
        try await TestEnvironment.withClient { client in
            let broken = Self.migrations() + [Migration(version: 102, name: "broken", sql: "SELECT * FROM no_such_table;")]
            let error = await #expect(throws: StorageError.self) {
                try await Migrator(schema: schema, migrations: broken).migrate(client, logger: TestEnvironment.logger)
            }
            guard case let .migrationFailed(_, version, _, _) = error else {
                Issue.record("expected migrationFailed, got \(String(describing: error))")
                return
            }
            #expect(version == 102)
            let exists = try await TestEnvironment.count(
                "SELECT count(*)::int8 FROM pg_namespace WHERE nspname = '\(schema.rawValue)'", client
            )
            #expect(exists == 0, "the whole migration run is one transaction")
        }
    }

    @Test("a function file applies when its text changes, and not otherwise")
    func functionsReapplied() async throws {
        let schema = try SchemaName(TestEnvironment.uniqueName("fn"))
        func answer(_ value: Int) -> SQLFunction {
            SQLFunction(file: "00_answer", sql: "CREATE OR REPLACE FUNCTION answer() RETURNS int LANGUAGE sql IMMUTABLE RETURN \(value);")
        }
        try await TestEnvironment.withClient { client in
            func current() async throws -> Int {
                try await TestEnvironment.count("SELECT \(schema.quoted).answer()::int8", client)
            }
            func appliedAt() async throws -> String {
                try await client.query(PostgresQuery(unsafeSQL: "SELECT applied_at::text FROM \(schema.table("schema_functions"))"))
                    .decode(String.self).reduce(into: "") { $0 = $1 }
            }
            try await Migrator(schema: schema, migrations: Self.migrations(), functions: [answer(41)]).migrate(client, logger: TestEnvironment.logger)
            #expect(try await current() == 41)
            let first = try await appliedAt()
            try await Migrator(schema: schema, migrations: Self.migrations(), functions: [answer(41)]).migrate(client, logger: TestEnvironment.logger)
            #expect(try await appliedAt() == first, "the same text is not applied again")
            try await Migrator(schema: schema, migrations: Self.migrations(), functions: [answer(42)]).migrate(client, logger: TestEnvironment.logger)
            #expect(try await current() == 42, "a changed text is")
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"))
        }
    }

    @Test("schema names that are not plain identifiers are refused")
    func schemaNames() throws {
        #expect(throws: StorageError.invalidSchemaName("a;b")) { try SchemaName("a;b") }
        #expect(throws: StorageError.invalidSchemaName("Contacts")) { try SchemaName("Contacts") }
        #expect(throws: StorageError.invalidSchemaName("1x")) { try SchemaName("1x") }
        #expect(try SchemaName("erp_bridge").quoted == "\"erp_bridge\"")
    }
}
