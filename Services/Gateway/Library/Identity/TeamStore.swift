import Contracts
import Foundation
import HTTPTypes
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Teams of users, with a lead: support routes tickets to a team and escalates to its lead; the
/// calendars show a team's week. A change of members is also each member's `identity.user.updated`.
struct TeamStore: ServiceStore {
    let service: ServiceDependencies

    var teams: String { schema.table("teams") }
    var document: String { rows.document }

    struct Fields: Decodable, Sendable {
        var name: String?
        var leadId: UUID?
        var memberIds: [UUID]?

        enum CodingKeys: String, CodingKey { case name, leadId = "lead_id", memberIds = "member_ids" }
    }

    func get(_ id: UUID) async throws -> Document {
        try await client.document(document, from: teams, as: "r", id: id, orThrow: Problem.notFound("team \(id.lowercased)"), logger: logger)
    }

    func list() async throws -> RawPage {
        try await client.unpaged(PostgresQuery(unsafeSQL: "SELECT \(document) FROM \(teams) r ORDER BY lower(r.name), r.id"), logger: logger)
    }

    func create(_ input: Fields) async throws -> Document {
        var check = FieldChecker()
        let name = check.text(input.name, "name", required: true, maximum: 100)
        try check.check { Problem.validation($0) }
        let id = UUID()
        return try await client.transaction(logger: logger) { connection in
            try await rows.requireFree("name", name!, except: nil, slug: "team-name-taken", detail: "another team is called \(name!)", on: connection)
            var sql = SQLBuilder()
            sql.append("INSERT INTO \(teams) (id, name) VALUES (\(try sql.bind(id)), \(try sql.bind(name!)))")
            try await connection.query(sql.query, logger: logger)
            try await setLeadAndMembers(id, lead: input.leadId, members: input.memberIds ?? [], on: connection)
            return try await connection.document(
                try rows.read(id), causing: IdentityEvents.teamCreated, producer: IdentityEvents.producer, aggregateId: id, version: 1,
                outbox: outbox, logger: logger
            )
        }
    }

    func update(_ id: UUID, patch: JSONValue, expectedVersion: Int64) async throws -> Document {
        guard case .object = patch else { throw Problem.badRequest("the body must be a JSON object (a merge patch)") }
        return try await client.transaction(logger: logger) { connection in
            let version = try await rows.lock(id, on: connection)
            guard version == expectedVersion else { throw Problem.versionMismatch(expected: expectedVersion, current: version) }
            let current = try await connection.document(returnedBy: try rows.read(id), logger: logger)
            let fields = try Document.writableFields(Fields.self, of: current, patchedWith: patch, invalid: { Problem.validation($0) })
            var check = FieldChecker()
            let name = check.text(fields.name, "name", required: true, maximum: 100)
            try check.check { Problem.validation($0) }
            try await rows.requireFree("name", name!, except: id, slug: "team-name-taken", detail: "another team is called \(name!)", on: connection)
            var sql = SQLBuilder()
            sql.append("UPDATE \(teams) SET name = \(try sql.bind(name!)) WHERE id = \(try sql.bind(id))")
            try await connection.query(sql.query, logger: logger)
            try await setLeadAndMembers(id, lead: fields.leadId, members: fields.memberIds ?? [], on: connection)
            return try await rows.bump(id, from: version, event: IdentityEvents.teamUpdated, on: connection)
        }
    }

    /// Its members leave it (each a new version of the user); the team's last document is the event.
    func delete(_ id: UUID, expectedVersion: Int64?) async throws {
        try await client.transaction(logger: logger) { connection in
            let version = try await rows.lock(id, on: connection)
            if let expectedVersion, expectedVersion != version {
                throw Problem.versionMismatch(expected: expectedVersion, current: version)
            }
            try await setLeadAndMembers(id, lead: nil, members: [], on: connection)
            try await rows.bump(id, from: version, event: IdentityEvents.teamDeleted, on: connection)
            var sql = SQLBuilder()
            sql.append("DELETE FROM \(teams) WHERE id = \(try sql.bind(id))")
            try await connection.query(sql.query, logger: logger)
        }
    }

    /// A new version of the team because its members changed from the user's side.
    func touched(_ id: UUID, on connection: PostgresConnection) async throws {
        let version = try await rows.lock(id, on: connection)
        try await rows.bump(id, from: version, event: IdentityEvents.teamUpdated, on: connection)
    }

    // MARK: - Parts of a change

    var rows: IdentityRows { IdentityRows(service: service, kind: "team") }

    /// The lead (who must be a member, and is made one) and the members become these; every user
    /// who joined or left is a new version of that user.
    private func setLeadAndMembers(_ id: UUID, lead: UUID?, members: [UUID], on connection: PostgresConnection) async throws {
        let wanted = members + (lead.map { [$0] } ?? [])
        let (missing, changed) = try await TeamMembership.ofTeam(schema: schema, logger: logger).replace(id, with: wanted, on: connection)
        if !missing.isEmpty {
            throw Problem.validation([FieldError(lead.map { missing.contains($0.lowercased) } == true ? "lead_id" : "member_ids",
                "no such user: \(missing.joined(separator: ", "))")])
        }
        var setLead = SQLBuilder()
        setLead.append("UPDATE \(teams) SET lead_id = \(try setLead.bind(lead)) WHERE id = \(try setLead.bind(id))")
        try await connection.query(setLead.query, logger: logger)
        for user in changed {
            try await UserStore(service: service).touched(user, on: connection)
        }
    }
}
