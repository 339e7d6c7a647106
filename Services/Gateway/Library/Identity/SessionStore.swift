import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// Signed-in browsers, kept in PostgreSQL so that every gateway replica knows them and ending one
/// ends it everywhere. The cookie holds a random token of which only the hash is stored.
struct SessionStore: ServiceStore {
    let service: ServiceDependencies
    let users: UserStore
    var limits = Limits()

    struct Limits: Sendable {
        /// A session unused this long ends.
        var idle: Duration = .seconds(2 * 3600)
        /// A session ends this long after sign-in, however busy.
        var absolute: Duration = .seconds(12 * 3600)
        /// Failed sign-ins counted over this window…
        var failureWindow: Duration = .seconds(15 * 60)
        /// …after which an account is refused until the window has passed,
        var failuresPerAccount = 5
        /// and an address (many accounts guessed from one place).
        var failuresPerAddress = 30
    }

    var sessions: String { schema.table("sessions") }
    var failures: String { schema.table("sign_in_failures") }

    /// A signed-in user as a request sees them.
    struct SignedIn: Sendable {
        var userId: UUID
        var name: String
        var email: String
        var role: Role
        var timeZone: String
        /// Every state-changing form carries it back.
        var csrfToken: String
        var tokenHash: String
    }

    enum SignInFailure: Error {
        /// Unknown e-mail, wrong password, inactive user or none set yet: the same answer for
        /// each, so that the form does not tell which e-mails are users.
        case refused
        /// Too many failures; try again after this many seconds.
        case limited(retryAfter: Int)
    }

    /// A new session for the e-mail and password, with its cookie token.
    func signIn(email: String, password: String, address: String, userAgent: String?) async throws -> (token: String, session: SignedIn) {
        let account = "account:" + email.trimmed.lowercased()
        let place = "address:" + address
        if let wait = try await limited(account: account, address: place) { throw SignInFailure.limited(retryAfter: wait) }
        let found = try await users.credentials(email: email)
        let verified = try await PasswordHashing.verify(password, hash: found?.hash)
        guard let found, found.hash != nil, verified, found.active else {
            try await recordFailure(account: account, address: place)
            throw SignInFailure.refused
        }
        let token = SecretToken.make()
        let hash = SecretToken.hash(token)
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(sessions) (token_hash, user_id, csrf_token, expires_at, address, user_agent)
                VALUES (\(try sql.bind(hash)), \(try sql.bind(found.id)), \(try sql.bind(SecretToken.make())),
                    now() + \(try sql.bind(Int(limits.absolute.components.seconds))) * interval '1 second', \(try sql.bind(address)),
                    \(try sql.bind(userAgent.map { String($0.prefix(300)) })));
                """)
            try await connection.query(sql.query, logger: logger)
            try await clearFailures(account, on: connection)
        }
        guard let session = try await session(token) else { throw MissingRow(statement: "the session just made") }
        return (token, session)
    }

    /// The live session of a cookie's token, or nil. Being seen moves its idle limit; the row is
    /// written at most once a minute, not on every page and asset a browser asks for.
    func session(_ token: String) async throws -> SignedIn? {
        guard token.count == 64 else { return nil }
        var sql = SQLBuilder()
        sql.append("""
            WITH live AS (
                SELECT u.id, u.name, u.email, u.role, u.time_zone, s.csrf_token, s.token_hash, s.last_seen_at
                FROM \(sessions) s JOIN \(users.users) u ON u.id = s.user_id AND u.active
                WHERE s.token_hash = \(try sql.bind(SecretToken.hash(token))) AND s.ended_at IS NULL AND s.expires_at > now()
                    AND s.last_seen_at > now() - \(try sql.bind(Int(limits.idle.components.seconds))) * interval '1 second'),
            seen AS (
                UPDATE \(sessions) s SET last_seen_at = now() FROM live
                WHERE s.token_hash = live.token_hash AND live.last_seen_at < now() - interval '1 minute')
            SELECT id, name, email, role, time_zone, csrf_token, token_hash FROM live
            """)
        let query = sql.query
        return try await client.transaction(logger: logger) { connection in
            var found: SignedIn?
            for try await (id, name, email, role, zone, csrf, hash) in try await connection.query(query, logger: logger)
                .decode((UUID, String, String, String, String, String, String).self)
            {
                found = Role(rawValue: role).map {
                    SignedIn(userId: id, name: name, email: email, role: $0, timeZone: zone, csrfToken: csrf, tokenHash: hash)
                }
            }
            return found
        }
    }

    /// Signs this browser out.
    func end(_ session: SignedIn) async throws {
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("UPDATE \(sessions) SET ended_at = now() WHERE token_hash = \(try sql.bind(session.tokenHash))")
            try await connection.query(sql.query, logger: logger)
        }
    }

    /// Signs the user out on every browser.
    func endAll(of user: UUID) async throws {
        try await client.transaction(logger: logger) { connection in
            try await Self.endAll(of: user, schema: schema, on: connection, logger: logger)
        }
    }

    static func endAll(of user: UUID, schema: SchemaName, on connection: PostgresConnection, logger: Logger) async throws {
        var sql = SQLBuilder()
        sql.append("UPDATE \(schema.table("sessions")) SET ended_at = now() WHERE user_id = \(try sql.bind(user)) AND ended_at IS NULL")
        try await connection.query(sql.query, logger: logger)
    }

    /// Seconds until the account or the address may try again, when either is over its limit.
    func limited(account: String, address: String) async throws -> Int? {
        var sql = SQLBuilder()
        let window = try sql.bind(Int(limits.failureWindow.components.seconds))
        sql.append("""
            SELECT subject, count(*)::int, ceil(extract(epoch FROM min(failed_at) + \(window) * interval '1 second' - now()))::int
            FROM \(failures) WHERE subject IN (\(try sql.bind(account)), \(try sql.bind(address)))
                AND failed_at > now() - \(window) * interval '1 second'
            GROUP BY subject
            """)
        let query = sql.query
        let (accountLimit, addressLimit) = (limits.failuresPerAccount, limits.failuresPerAddress)
        return try await client.read(logger: logger) { connection in
            var wait: Int?
            for try await (subject, count, seconds) in try await connection.query(query, logger: logger).decode((String, Int, Int).self) {
                if count >= (subject == account ? accountLimit : addressLimit) { wait = max(wait ?? 0, max(1, seconds)) }
            }
            return wait
        }
    }

    func recordFailure(account: String, address: String) async throws {
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(failures) (subject) VALUES (\(try sql.bind(account))), (\(try sql.bind(address)));
                """)
            try await connection.query(sql.query, logger: logger)
        }
    }

    /// A successful sign-in forgets the account's failures.
    func clearFailures(_ account: String, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("DELETE FROM \(failures) WHERE subject = \(try sql.bind(account))")
        try await connection.query(sql.query, logger: logger)
    }

    /// Sessions and failures nobody will look at again.
    func sweep() async throws {
        try await client.transaction(logger: logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: """
                DELETE FROM \(sessions) WHERE coalesce(ended_at, expires_at) < now() - interval '7 days'
                """), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: """
                DELETE FROM \(schema.table("portal_sessions")) WHERE coalesce(ended_at, expires_at) < now() - interval '7 days'
                """), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(failures) WHERE failed_at < now() - interval '1 day'"), logger: logger)
        }
    }
}
