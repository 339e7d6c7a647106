import Crypto
import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage
import Synchronization

/// Who is calling: a stored key, or the operator's admin key from the environment.
struct Caller: Sendable, Hashable {
    var id: String
    var role: Role
}

/// API keys, stored as SHA-256 hashes. Lookups are cached for a few seconds, so a revoked key
/// stops working at once on this gateway and within `cacheLifetime` on the others.
final class APIKeyStore: Sendable {
    private let schema: SchemaName
    private let client: PostgresClient
    private let logger: Logger
    private let adminKeyHash: String?
    private let cache = Mutex<[String: (caller: Caller?, expires: ContinuousClock.Instant)]>([:])
    static let cacheLifetime = Duration.seconds(5)

    init(schema: SchemaName, client: PostgresClient, adminKey: String?, logger: Logger) {
        self.schema = schema
        self.client = client
        self.logger = logger
        adminKeyHash = adminKey.flatMap { $0.isEmpty ? nil : SecretToken.hash($0) }
    }

    /// The caller a bearer token belongs to, or nil.
    func caller(for key: String) async throws -> Caller? {
        let hash = SecretToken.hash(key)
        if hash == adminKeyHash { return Caller(id: "admin", role: .admin) }
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0[hash] }), cached.expires > now { return cached.caller }
        var sql = SQLBuilder()
        sql.append("SELECT id::text, role FROM \(schema.table("api_keys")) WHERE key_hash = \(try sql.bind(hash)) AND revoked_at IS NULL")
        let statement = sql.query
        let found = try await client.read(logger: logger) { [logger] connection -> Caller? in
            var found: Caller?
            for try await (id, role) in try await connection.query(statement, logger: logger).decode((String, String).self) {
                found = Role(rawValue: role).map { Caller(id: id, role: $0) }
            }
            return found
        }
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[hash] = (found, now + Self.cacheLifetime)
        }
        return found
    }

    struct NewKey: Decodable {
        var name: String
        var role: Role
    }

    /// Creates a key; the answer holds the key itself, which is never shown again.
    func create(_ request: NewKey) async throws -> String {
        let name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(name.count) else {
            throw Problem.validation([FieldError("name", "must be 1 to 200 characters")])
        }
        let key = "sb_" + SecretToken.make()
        let id = UUID()
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(schema.table("api_keys")) (id, name, role, key_hash, prefix)
            VALUES (\(try sql.bind(id)), \(try sql.bind(name)), \(try sql.bind(request.role.rawValue)), \(try sql.bind(SecretToken.hash(key))),
                \(try sql.bind(String(key.prefix(10)))))
            RETURNING (\(Self.documentSQL) || jsonb_build_object('key', \(try sql.bind(key))))::text
            """)
        return try await client.write(sql.query, logger: logger)[0]
    }

    static let documentSQL = """
        jsonb_build_object('id', id, 'name', name, 'role', role, 'prefix', prefix,
            'created_at', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'revoked_at', to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
        """

    func list() async throws -> RawPage {
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(Self.documentSQL)::text FROM \(schema.table("api_keys")) ORDER BY created_at, id"
        )
        return try await client.unpaged(query, logger: logger)
    }

    func revoke(_ id: UUID) async throws {
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(schema.table("api_keys")) SET revoked_at = coalesce(revoked_at, date_trunc('milliseconds', now()))
            WHERE id = \(try sql.bind(id)) RETURNING key_hash
            """)
        guard let hash = try await client.write(sql.query, logger: logger).first else {
            throw Problem.notFound("API key \(id.uuidString.lowercased())")
        }
        _ = cache.withLock { $0.removeValue(forKey: hash) }
    }
}
