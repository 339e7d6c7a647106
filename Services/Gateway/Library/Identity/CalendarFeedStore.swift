import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// The secret URLs of users' iCalendar feeds. A calendar program cannot sign in, so the URL's
/// token stands for the user, read-only; it is shown once when made and stored only as a hash.
struct CalendarFeedStore: ServiceStore {
    let service: ServiceDependencies

    var feeds: String { schema.table("calendar_feeds") }

    /// The feed's owner as the feed reads activities: their id, role and time zone.
    struct Subscriber: Sendable {
        var userId: UUID
        var name: String
        var role: Role
        var timeZone: String
    }

    /// A new secret for the user's feed; an earlier one stops working.
    func renew(for user: UUID) async throws -> String {
        let token = SecretToken.make()
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(feeds) (user_id, token_hash) VALUES (\(try sql.bind(user)), \(try sql.bind(SecretToken.hash(token))))
                ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = now(), last_fetched_at = NULL
                """)
            try await connection.query(sql.query, logger: logger)
        }
        return token
    }

    func revoke(for user: UUID) async throws {
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("DELETE FROM \(feeds) WHERE user_id = \(try sql.bind(user))")
            try await connection.query(sql.query, logger: logger)
        }
    }

    /// When the user's feed was made and last fetched, if they have one.
    func status(for user: UUID) async throws -> (created: Date, lastFetched: Date?)? {
        var sql = SQLBuilder()
        sql.append("SELECT created_at, last_fetched_at FROM \(feeds) WHERE user_id = \(try sql.bind(user))")
        let query = sql.query
        return try await client.read(logger: logger) { connection in
            for try await row in try await connection.query(query, logger: logger).decode((Date, Date?).self) { return row }
            return nil
        }
    }

    /// The active user whose feed the token opens, noting the fetch; nil for anything else.
    func subscriber(_ token: String) async throws -> Subscriber? {
        guard token.count == 64 else { return nil }
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(feeds) f SET last_fetched_at = now() FROM \(schema.table("users")) u
            WHERE f.token_hash = \(try sql.bind(SecretToken.hash(token))) AND u.id = f.user_id AND u.active
            RETURNING u.id, u.name, u.role, u.time_zone
            """)
        let query = sql.query
        return try await client.transaction(logger: logger) { connection in
            for try await (id, name, role, zone) in try await connection.query(query, logger: logger).decode((UUID, String, String, String).self) {
                guard let role = Role(rawValue: role) else { return nil }
                return Subscriber(userId: id, name: name, role: role, timeZone: zone)
            }
            return nil
        }
    }
}
