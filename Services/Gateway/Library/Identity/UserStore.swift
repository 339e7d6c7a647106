import Contracts
import Foundation
import HTTPTypes
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// The staff's users. Every change commits with its `identity.user.*` event; a change of a user's
/// teams is also each team's `identity.team.updated`, so a replica of either side stays whole.
struct UserStore: ServiceStore {
    let service: ServiceDependencies

    var users: String { schema.table("users") }
    var document: String { rows.document }
    /// How long an activation or reset link works.
    static let linkLifetime = "72 hours"

    func get(_ id: UUID) async throws -> Document {
        try await client.document(document, from: users, as: "r", id: id, orThrow: Problem.notFound("user \(id.lowercased)"), logger: logger)
    }

    /// Everyone, by name: a company's staff is a short list.
    func list(activeOnly: Bool = false) async throws -> RawPage {
        try await client.unpaged(
            PostgresQuery(unsafeSQL: "SELECT \(document) FROM \(users) r \(activeOnly ? "WHERE r.active" : "") ORDER BY lower(r.name), r.id"),
            logger: logger
        )
    }

    /// Every user's name by id (lowercase), for pages that show an owner or who recorded something.
    func names(activeOnly: Bool = false) async throws -> [String: String] {
        let query = PostgresQuery(unsafeSQL: "SELECT id::text, name FROM \(users)" + (activeOnly ? " WHERE active" : ""))
        return try await client.read(logger: logger) { connection in
            var names: [String: String] = [:]
            for try await (id, name) in try await connection.query(query, logger: logger).decode((String, String).self) { names[id] = name }
            return names
        }
    }

    /// Every user's current document once more as `identity.user.updated` at its current
    /// version, for a service that starts keeping a copy of the staff after the users were made.
    /// A copy keeps newer versions only, so one that has a user already changes nothing. How many.
    func publishAll() async throws -> Int {
        var sql = SQLBuilder()
        sql.append("""
            WITH u AS (SELECT r.id AS aggregate_id, r.version AS aggregate_version, \(schema.quoted).user_document(r) AS data FROM \(users) r),
            events AS (
            """)
        try outbox.appendEvents(from: "u", type: IdentityEvents.userUpdated, producer: IdentityEvents.producer, into: &sql)
        sql.append(" RETURNING 1)")
        let notified = try outbox.notification(into: &sql)
        sql.append(" SELECT count(*)::text FROM events, \(notified)")
        let query = sql.query
        return try await client.transaction(logger: logger) { connection in
            Int(try await connection.texts(query, logger: logger).first ?? "0") ?? 0
        }
    }

    /// A new user, and the one-time link (valid 72 h) with which they set their password.
    func create(_ input: UserFields) async throws -> (user: Document, link: PasswordLink) {
        let fields = try input.validated()
        let id = UUID()
        return try await client.transaction(logger: logger) { connection in
            try await requireFree(fields.email, except: nil, on: connection)
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(users) (id, name, email, role, time_zone, out_of_office_from, out_of_office_to)
                VALUES (\(try sql.bind(id)), \(try sql.bind(fields.name)), \(try sql.bind(fields.email)), \(try sql.bind(fields.role.rawValue)),
                    \(try sql.bind(fields.timeZone)), \(try sql.bind(fields.outOfOffice?.from))::date, \(try sql.bind(fields.outOfOffice?.to))::date)
                """)
            try await connection.query(sql.query, logger: logger)
            try await setTeams(of: id, to: fields.teamIds, on: connection)
            let user = try await connection.document(
                try rows.read(id), causing: IdentityEvents.userCreated, producer: IdentityEvents.producer, aggregateId: id, version: 1,
                outbox: outbox, logger: logger
            )
            return (user, try await link(for: id, purpose: .activation, on: connection))
        }
    }

    /// A merge patch of the user's fields.
    func update(_ id: UUID, patch: JSONValue, expectedVersion: Int64) async throws -> Document {
        guard case let .object(members) = patch else { throw Problem.badRequest("the body must be a JSON object (a merge patch)") }
        var check = FieldChecker()
        for name in members.keys.sorted() where UserFields.serviceSet.contains(name) {
            check.fail(name, name == "active" ? "changes with POST …/deactivate or …/reactivate" : "is set by the service")
        }
        try check.check { Problem.validation($0) }
        return try await change(id, expectedVersion: expectedVersion, event: IdentityEvents.userUpdated) { connection in
            let current = try await connection.document(returnedBy: try rows.read(id), logger: logger)
            let fields = try Document.writableFields(
                UserFields.self, of: current, patchedWith: patch, alsoReadOnly: UserFields.serviceSet, invalid: { Problem.validation($0) }
            ).validated()
            try await requireFree(fields.email, except: id, on: connection)
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(users) SET name = \(try sql.bind(fields.name)), email = \(try sql.bind(fields.email)),
                    role = \(try sql.bind(fields.role.rawValue)), time_zone = \(try sql.bind(fields.timeZone)),
                    out_of_office_from = \(try sql.bind(fields.outOfOffice?.from))::date, out_of_office_to = \(try sql.bind(fields.outOfOffice?.to))::date
                WHERE id = \(try sql.bind(id))
                """)
            try await connection.query(sql.query, logger: logger)
            try await setTeams(of: id, to: fields.teamIds, on: connection)
        }
    }

    /// Deactivated: the user's sessions end in the same commit, and sign-in refuses them. Or back.
    func setActive(_ id: UUID, _ active: Bool, expectedVersion: Int64?) async throws -> Document {
        try await change(id, expectedVersion: expectedVersion, event: active ? IdentityEvents.userReactivated : IdentityEvents.userDeactivated) {
            connection in
            var sql = SQLBuilder()
            sql.append("UPDATE \(users) SET active = \(try sql.bind(active)) WHERE id = \(try sql.bind(id))")
            try await connection.query(sql.query, logger: logger)
            if !active { try await SessionStore.endAll(of: id, schema: schema, on: connection, logger: logger) }
        }
    }

    /// A new one-time link for the user to set a password; earlier unused links stop working.
    func resetLink(_ id: UUID) async throws -> PasswordLink {
        try await client.transaction(logger: logger) { connection in
            _ = try await rows.lock(id, on: connection)
            return try await link(for: id, purpose: .reset, on: connection)
        }
    }

    /// Sets the password of a link's user and uses the link up; every session of the user ends (a
    /// reset is often because someone else knew the old one). The user, who may then sign in.
    func usePasswordLink(_ token: String, password: String) async throws -> UUID {
        let hash = try await PasswordHashing.hash(try Self.checkedPassword(password))
        return try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(schema.table("password_links")) SET used_at = now()
                WHERE token_hash = \(try sql.bind(SecretToken.hash(token))) AND used_at IS NULL AND expires_at > now()
                RETURNING user_id
                """)
            var found: UUID?
            for try await (userId,) in try await connection.query(sql.query, logger: logger).decode((UUID,).self) { found = userId }
            guard let userId = found else {
                throw Problem(.gone, slug: "link-expired", detail: "this link was used already or has expired; ask an administrator for a new one")
            }
            try await storePassword(hash, of: userId, on: connection)
            return userId
        }
    }

    /// At least 10 characters; at most 72 bytes, all bcrypt reads (a longer one would be cut without a word).
    static func checkedPassword(_ password: String, field: String = "password") throws -> String {
        if password.count < 10 { throw Problem.validation([FieldError(field, "must be at least 10 characters")]) }
        if password.utf8.count > 72 { throw Problem.validation([FieldError(field, "must be at most 72 bytes")]) }
        return password
    }

    struct Credentials: Sendable {
        var id: UUID
        var hash: String?
        var active: Bool
    }

    /// What sign-in checks of the user with this e-mail, whatever its case.
    func credentials(email: String) async throws -> Credentials? {
        var sql = SQLBuilder()
        sql.append("SELECT id, password_hash, active FROM \(users) WHERE lower(email) = lower(\(try sql.bind(email.trimmed)))")
        let query = sql.query
        return try await client.read(logger: logger) { connection in
            var found: Credentials?
            for try await (id, hash, active) in try await connection.query(query, logger: logger).decode((UUID, String?, Bool).self) {
                found = Credentials(id: id, hash: hash, active: active)
            }
            return found
        }
    }

    /// A new version of the user because their teams changed from the team's side.
    func touched(_ id: UUID, on connection: PostgresConnection) async throws {
        try await rows.bump(id, from: try await rows.lock(id, on: connection), event: IdentityEvents.userUpdated, on: connection)
    }

    // MARK: - Parts of a change

    var rows: IdentityRows { IdentityRows(service: service, kind: "user") }

    private func change(
        _ id: UUID, expectedVersion: Int64?, event: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> Void
    ) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            let version = try await rows.lock(id, on: connection)
            if let expectedVersion, expectedVersion != version {
                throw Problem.versionMismatch(expected: expectedVersion, current: version)
            }
            try await body(connection)
            return try await rows.bump(id, from: version, event: event, on: connection)
        }
    }

    private func requireFree(_ email: String, except id: UUID?, on connection: PostgresConnection) async throws {
        try await rows.requireFree("email", email, except: id, slug: "email-taken", detail: "another user has the e-mail \(email)", on: connection)
    }

    private func setTeams(of id: UUID, to teams: [UUID], on connection: PostgresConnection) async throws {
        let (missing, changed) = try await TeamMembership.ofUser(schema: schema, logger: logger).replace(id, with: teams, on: connection)
        if !missing.isEmpty {
            throw Problem.validation([FieldError("team_ids", "no such team: \(missing.joined(separator: ", "))")])
        }
        // A team's lead is one of its members: a user who leaves a team they lead leaves it leaderless.
        var unlead = SQLBuilder()
        let user = try unlead.bind(id)
        unlead.append("""
            UPDATE \(schema.table("teams")) t SET lead_id = NULL
            WHERE t.lead_id = \(user) AND NOT EXISTS (SELECT 1 FROM \(schema.table("team_members")) m WHERE m.team_id = t.id AND m.user_id = \(user))
            """)
        try await connection.query(unlead.query, logger: logger)
        for team in changed {
            try await TeamStore(service: service).touched(team, on: connection)
        }
    }

    private func storePassword(_ hash: String, of id: UUID, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("UPDATE \(users) SET password_hash = \(try sql.bind(hash)) WHERE id = \(try sql.bind(id))")
        try await connection.query(sql.query, logger: logger)
        try await SessionStore.endAll(of: id, schema: schema, on: connection, logger: logger)
    }

    private func link(for id: UUID, purpose: PasswordLink.Purpose, on connection: PostgresConnection) async throws -> PasswordLink {
        let token = SecretToken.make()
        let links = schema.table("password_links")
        var sql = SQLBuilder()
        sql.append("""
            WITH spent AS (UPDATE \(links) SET used_at = now() WHERE user_id = \(try sql.bind(id)) AND used_at IS NULL)
            INSERT INTO \(links) (token_hash, user_id, purpose, expires_at)
            VALUES (\(try sql.bind(SecretToken.hash(token))), \(try sql.bind(id)), \(try sql.bind(purpose.rawValue)), now() + interval '\(Self.linkLifetime)')
            RETURNING \(schema.quoted).ts(expires_at)
            """)
        for try await (expires,) in try await connection.query(sql.query, logger: logger).decode((String,).self) {
            return PasswordLink(token: token, purpose: purpose, expiresAt: expires)
        }
        throw MissingRow(statement: sql.query.sql)
    }
}

/// A one-time link to set a password: shown once, to be handed to its user.
struct PasswordLink: Sendable, Encodable {
    enum Purpose: String, Sendable, Encodable { case activation, reset }
    var token: String
    var purpose: Purpose
    var expiresAt: String
    /// Where its page is: the staff's `/password/`, a customer's `/portal/activate/`.
    var base = "/password/"

    /// The page that takes it, below the gateway's address.
    var path: String { base + token }

    enum CodingKeys: String, CodingKey { case purpose, path, expiresAt = "expires_at" }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(purpose, forKey: .purpose)
        try container.encode(path, forKey: .path)
        try container.encode(expiresAt, forKey: .expiresAt)
    }
}
