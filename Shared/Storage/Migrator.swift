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

    /// Checksums a database may have recorded for this migration before its text was edited,
    /// which its text names in a comment (`-- … recorded md5 <32 hex digits>`): when the functions
    /// moved to SQL/functions, the migrations that had defined them lost those definitions, and a
    /// database that applied them before must not take that for a rewritten history.
    public var earlierChecksums: [String] {
        sql.split(separator: "\n").filter { $0.hasPrefix("--") }.compactMap { line in
            line.firstMatch(of: /recorded md5 ([0-9a-f]{32})/).map { String($0.1) }
        }
    }
}

/// Applies a schema's migrations in version order, each once, then its functions whose text
/// changed, all under a transaction-scoped advisory lock, so replicas starting together wait for
/// each other instead of racing. `<schema>.schema_migrations` keeps each version with the md5 of its
/// text, `<schema>.schema_functions` each function file with the md5 it was last applied with.
public struct Migrator: Sendable {
    public let schema: SchemaName
    public let migrations: [Migration]
    public let functions: [SQLFunction]

    public init(schema: SchemaName, migrations: [Migration], functions: [SQLFunction] = []) {
        precondition(
            Set(migrations.map(\.version)).count == migrations.count, "duplicate migration version in \(schema)"
        )
        precondition(Set(functions.map(\.name)).count == functions.count, "a function of \(schema) is defined in two files")
        self.schema = schema
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.functions = functions
    }

    public init(schema: SchemaName, sql: SQLFiles) {
        self.init(schema: schema, migrations: sql.migrations, functions: sql.functions)
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
                guard existing == checksum || migration.earlierChecksums.contains(existing) else {
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
        try await applyFunctions(on: connection, logger: logger)
        return appliedNow
    }

    /// Each function file whose text differs from the one last applied, in the order given (each
    /// set of files in file order: the shared ones first). PL/pgSQL and quoted bodies are not
    /// checked against what they call (check_function_bodies is off), so their order does not
    /// matter; a SQL-standard `RETURN` body is, so it must come after what it uses.
    private func applyFunctions(on connection: PostgresConnection, logger: Logger) async throws {
        guard !functions.isEmpty else { return }
        try await connection.query(
            PostgresQuery(unsafeSQL: """
                CREATE TABLE IF NOT EXISTS \(schema.table("schema_functions")) (
                    name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """),
            logger: logger
        )
        var applied: [String: String] = [:]
        for try await (name, checksum) in try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT name, checksum FROM \(schema.table("schema_functions"))"), logger: logger
        ).decode((String, String).self) {
            applied[name] = checksum
        }
        try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(schema.quoted)"), logger: logger)
        try await connection.query("SET LOCAL check_function_bodies TO off", logger: logger)
        for function in functions {
            let checksum = try await md5(function.sql, on: connection, logger: logger)
            guard applied[function.name] != checksum else { continue }
            do {
                for statement in SQLScript.statements(function.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            } catch {
                throw StorageError.functionFailed(schema: schema.rawValue, file: function.file, reason: String(reflecting: error))
            }
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(schema.table("schema_functions")) (name, checksum) VALUES ($1, $2)
                        ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
                        """,
                    binds: try .of(function.name, checksum)
                ),
                logger: logger
            )
            logger.info("applied function", metadata: ["schema": "\(schema)", "function": "\(function.file)"])
        }
        try await connection.query("SET LOCAL check_function_bodies TO on", logger: logger)
    }

    private func md5(_ text: String, on connection: PostgresConnection, logger: Logger) async throws -> String {
        let rows = try await connection.query("SELECT md5(\(text))", logger: logger).decode(String.self)
        for try await checksum in rows { return checksum }
        return ""
    }
}
