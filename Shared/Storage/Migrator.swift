import Logging
import PostgresNIO

public struct Migration: Sendable {
    public var version: Int
    public var name: String
    /// SQL run with the service's schema as `search_path`, so it names tables without a schema.
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies a schema's migrations in version order, each once, under a transaction-scoped advisory
/// lock, so replicas starting together wait for each other instead of racing.
/// `<schema>.schema_migrations` keeps each version with the md5 of its text.
public struct Migrator: Sendable {
    public let schema: SchemaName
    public let migrations: [Migration]

    public init(schema: SchemaName, migrations: [Migration]) {
        precondition(
            Set(migrations.map(\.version)).count == migrations.count, "duplicate migration version in \(schema)"
        )
        self.schema = schema
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Returns the versions it applied now. An operator logged in as an administrator passes the
    /// service's `role`, so that what the migration creates belongs to the service.
    @discardableResult
    public func migrate(_ client: PostgresClient, as role: SchemaName? = nil, logger: Logger) async throws -> [Int] {
        try await client.transaction(logger: logger) { connection in
            if let role {
                try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL ROLE \(role.quoted)"), logger: logger)
            }
            return try await migrate(on: connection, logger: logger)
        }
    }

    private func migrate(on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        let lockKey = "switchboard.migrate.\(schema.rawValue)"
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(lockKey)))", logger: logger)
        let exists = try await connection.query(
            "SELECT 1 FROM pg_namespace WHERE nspname = \(schema.rawValue)", logger: logger
        ).collect()
        if exists.isEmpty {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema.quoted)"), logger: logger)
        }
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    CREATE TABLE IF NOT EXISTS \(schema.table("schema_migrations")) (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        checksum text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now())
                    """
            ),
            logger: logger
        )
        var applied: [Int: String] = [:]
        for try await (version, checksum) in try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT version, checksum FROM \(schema.table("schema_migrations"))"),
            logger: logger
        ).decode((Int, String).self) {
            applied[version] = checksum
        }
        var appliedNow: [Int] = []
        for migration in migrations {
            let checksum = try await md5(migration.sql, on: connection, logger: logger)
            if let existing = applied[migration.version] {
                guard existing == checksum else {
                    throw StorageError.migrationChanged(
                        schema: schema.rawValue, version: migration.version, name: migration.name,
                        applied: existing, current: checksum
                    )
                }
                continue
            }
            try await connection.query(
                PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(schema.quoted)"), logger: logger
            )
            do {
                for statement in SQLScript.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            } catch {
                throw StorageError.migrationFailed(
                    schema: schema.rawValue, version: migration.version, name: migration.name,
                    reason: String(reflecting: error)
                )
            }
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "INSERT INTO \(schema.table("schema_migrations")) (version, name, checksum) VALUES ($1, $2, $3)",
                    binds: try .of(migration.version, migration.name, checksum)
                ),
                logger: logger
            )
            appliedNow.append(migration.version)
            logger.info("applied migration", metadata: ["schema": "\(schema)", "version": "\(migration.version)", "name": "\(migration.name)"])
        }
        let unknown = Set(applied.keys).subtracting(migrations.map(\.version))
        if !unknown.isEmpty {
            logger.warning("schema has migrations this build does not know", metadata: ["schema": "\(schema)", "versions": "\(unknown.sorted())"])
        }
        return appliedNow
    }

    private func md5(_ text: String, on connection: PostgresConnection, logger: Logger) async throws -> String {
        let rows = try await connection.query("SELECT md5(\(text))", logger: logger).decode(String.self)
        for try await checksum in rows { return checksum }
        return ""
    }
}
