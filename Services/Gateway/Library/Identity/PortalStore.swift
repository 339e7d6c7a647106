import Foundation
import HTTPTypes
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// The customers of the self-service portal: access granted by staff for one contact, a one-time
/// activation link, sign-in with the staff's limits on failures, sessions under a cookie of their
/// own, and the requests a customer made (each the lead it became in sales).
struct PortalStore: ServiceStore {
    let service: ServiceDependencies
    let sessions: SessionStore

    var accounts: String { schema.table("portal_accounts") }

    /// A signed-in customer.
    struct Customer: Sendable {
        var id: UUID
        var contactId: UUID
        var accountId: UUID?
        var name: String
        var email: String
        var customerType: String?
        var csrfToken: String
        var tokenHash: String
    }

    struct Grant: Sendable {
        var contactId: UUID
        var accountId: UUID?
        var email: String
        var name: String
        var customerType: String?
        var grantedBy: String
    }

    /// Access for the contact, or a new activation link when it has access already (earlier links
    /// stop working); the link is shown once, to be handed over.
    func grant(_ grant: Grant) async throws -> PasswordLink {
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(accounts) AS a (id, contact_id, account_id, email, name, customer_type, granted_by)
                VALUES (\(try sql.bind(UUID())), \(try sql.bind(grant.contactId)), \(try sql.bind(grant.accountId)), \(try sql.bind(grant.email)),
                    \(try sql.bind(grant.name)), \(try sql.bind(grant.customerType)), \(try sql.bind(grant.grantedBy)))
                ON CONFLICT (contact_id) DO UPDATE SET email = excluded.email, name = excluded.name, account_id = excluded.account_id,
                    customer_type = excluded.customer_type, active = true
                RETURNING a.id
                """)
            var id: UUID?
            do {
                for try await (found,) in try await connection.query(sql.query, logger: logger).decode((UUID,).self) { id = found }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                throw Problem.conflict("email-taken", "another customer of the portal signs in with \(grant.email)")
            }
            guard let id else { throw MissingRow(statement: "the portal account just written") }
            let token = SecretToken.make()
            let links = schema.table("portal_links")
            var link = SQLBuilder()
            link.append("""
                WITH spent AS (UPDATE \(links) SET used_at = now() WHERE portal_account_id = \(try link.bind(id)) AND used_at IS NULL)
                INSERT INTO \(links) (token_hash, portal_account_id, expires_at)
                VALUES (\(try link.bind(SecretToken.hash(token))), \(try link.bind(id)), now() + interval '\(UserStore.linkLifetime)')
                RETURNING \(schema.quoted).ts(expires_at)
                """)
            for try await (expires,) in try await connection.query(link.query, logger: logger).decode((String,).self) {
                return PasswordLink(token: token, purpose: .activation, expiresAt: expires, base: "/portal/activate/")
            }
            throw MissingRow(statement: link.query.sql)
        }
    }

    /// Sets the password of an activation link's customer and uses the link up.
    func activate(_ token: String, password: String) async throws {
        let hash = try await PasswordHashing.hash(try UserStore.checkedPassword(password))
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                WITH used AS (
                    UPDATE \(schema.table("portal_links")) SET used_at = now()
                    WHERE token_hash = \(try sql.bind(SecretToken.hash(token))) AND used_at IS NULL AND expires_at > now()
                    RETURNING portal_account_id),
                ended AS (UPDATE \(schema.table("portal_sessions")) SET ended_at = now() WHERE portal_account_id IN (SELECT portal_account_id FROM used))
                UPDATE \(accounts) SET password_hash = \(try sql.bind(hash)) WHERE id IN (SELECT portal_account_id FROM used) RETURNING id
                """)
            var found = false
            for try await _ in try await connection.query(sql.query, logger: logger).decode((UUID,).self) { found = true }
            guard found else {
                throw Problem(.gone, slug: "link-expired", detail: "this link was used already or has expired; ask us for a new one")
            }
        }
    }

    /// A new session for the e-mail and password, refused as the staff's are (same answer for
    /// every failure, the same limits per account and address).
    func signIn(email: String, password: String, address: String) async throws -> String {
        let subject = "portal:" + email.trimmed.lowercased()
        if let wait = try await sessions.limited(account: subject, address: "address:" + address) {
            throw SessionStore.SignInFailure.limited(retryAfter: wait)
        }
        var sql = SQLBuilder()
        sql.append("SELECT id, password_hash, active FROM \(accounts) WHERE lower(email) = lower(\(try sql.bind(email.trimmed)))")
        let query = sql.query
        let found = try await client.read(logger: logger) { connection in
            var found: (UUID, String?, Bool)?
            for try await row in try await connection.query(query, logger: logger).decode((UUID, String?, Bool).self) { found = row }
            return found
        }
        let verified = try await PasswordHashing.verify(password, hash: found?.1)
        guard let found, found.1 != nil, verified, found.2 else {
            try await sessions.recordFailure(account: subject, address: "address:" + address)
            throw SessionStore.SignInFailure.refused
        }
        let token = SecretToken.make()
        try await client.transaction(logger: logger) { connection in
            var insert = SQLBuilder()
            insert.append("""
                INSERT INTO \(schema.table("portal_sessions")) (token_hash, portal_account_id, csrf_token, expires_at)
                VALUES (\(try insert.bind(SecretToken.hash(token))), \(try insert.bind(found.0)), \(try insert.bind(SecretToken.make())),
                    now() + \(try insert.bind(Int(sessions.limits.absolute.components.seconds))) * interval '1 second')
                """)
            try await connection.query(insert.query, logger: logger)
            try await sessions.clearFailures(subject, on: connection)
        }
        return token
    }

    /// The live session of a portal cookie's token, seen now, or nil.
    func customer(_ token: String) async throws -> Customer? {
        guard token.count == 64 else { return nil }
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(schema.table("portal_sessions")) s SET last_seen_at = now()
            FROM \(accounts) a
            WHERE s.token_hash = \(try sql.bind(SecretToken.hash(token))) AND s.ended_at IS NULL AND s.expires_at > now()
                AND s.last_seen_at > now() - \(try sql.bind(Int(sessions.limits.idle.components.seconds))) * interval '1 second'
                AND a.id = s.portal_account_id AND a.active
            RETURNING a.id, a.contact_id, a.account_id, a.name, a.email, a.customer_type, s.csrf_token, s.token_hash
            """)
        let query = sql.query
        return try await client.transaction(logger: logger) { connection in
            var found: Customer?
            for try await (id, contact, account, name, email, type, csrf, hash) in try await connection.query(query, logger: logger)
                .decode((UUID, UUID, UUID?, String, String, String?, String, String).self)
            {
                found = Customer(id: id, contactId: contact, accountId: account, name: name, email: email, customerType: type, csrfToken: csrf, tokenHash: hash)
            }
            return found
        }
    }

    func end(_ customer: Customer) async throws {
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("UPDATE \(schema.table("portal_sessions")) SET ended_at = now() WHERE token_hash = \(try sql.bind(customer.tokenHash))")
            try await connection.query(sql.query, logger: logger)
        }
    }

    /// Keeps that the customer's request became this lead.
    func recordRequest(_ customer: Customer, lead: UUID, summary: String) async throws -> UUID {
        let id = UUID()
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(schema.table("portal_requests")) (id, portal_account_id, lead_id, summary)
                VALUES (\(try sql.bind(id)), \(try sql.bind(customer.id)), \(try sql.bind(lead)), \(try sql.bind(summary)))
                """)
            try await connection.query(sql.query, logger: logger)
        }
        return id
    }

    struct Request: Sendable {
        var id: UUID
        var leadId: UUID
        var summary: String
        var createdAt: String
    }

    /// The customer's requests, newest first; with `id`, that one only if it is theirs.
    func requests(of customer: Customer, id: UUID? = nil) async throws -> [Request] {
        var sql = SQLBuilder()
        sql.append("""
            SELECT id, lead_id, summary, \(schema.quoted).ts(created_at) FROM \(schema.table("portal_requests"))
            WHERE portal_account_id = \(try sql.bind(customer.id))
            """)
        if let id { sql.append(" AND id = \(try sql.bind(id))") }
        sql.append(" ORDER BY created_at DESC LIMIT 100")
        let query = sql.query
        return try await client.read(logger: logger) { connection in
            var found: [Request] = []
            for try await (id, lead, summary, at) in try await connection.query(query, logger: logger).decode((UUID, UUID, String, String).self) {
                found.append(Request(id: id, leadId: lead, summary: summary, createdAt: at))
            }
            return found
        }
    }
}
