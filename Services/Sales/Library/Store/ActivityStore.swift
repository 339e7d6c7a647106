import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import StaffReplica
import Storage

/// Calls, meetings and tasks with a due time, an owner and links to a contact, deal or lead; the
/// calendar is a range query on an owner's. A completed call or meeting with a contact is logged
/// on the contact's timeline by the contacts service, from `sales.activity.completed`.
struct ActivityStore: ServiceStore {
    let service: ServiceDependencies
    let replica: ContactReplica
    let staff: StaffReplica

    var activities: String { schema.table("activities") }
    var document: String { "\(schema.quoted).activity_document(a)::text" }

    func get(_ id: UUID) async throws -> Document {
        try await client.document(
            document, from: activities, as: "a", id: id, live: true, orThrow: SalesError.notFound("activity \(id.lowercased)"), logger: logger
        )
    }

    /// By due time: an owner's calendar with `from` and `to`, what is `overdue`, or what a contact,
    /// deal or lead has; `done` filters.
    func list(_ filter: ActivityFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("SELECT \(document), ARRAY[\(schema.quoted).ts(a.due_at), a.id::text] FROM \(activities) a WHERE a.deleted_at IS NULL")
        if let owner = filter.owner { sql.append(" AND a.owner = \(try sql.bind(owner))") }
        if let contact = filter.contact { sql.append(" AND a.contact_id = \(try sql.bind(contact))") }
        if let deal = filter.deal { sql.append(" AND a.deal_id = \(try sql.bind(deal))") }
        if let lead = filter.lead { sql.append(" AND a.lead_id = \(try sql.bind(lead))") }
        if let from = filter.from { sql.append(" AND a.due_at >= \(try sql.bind(from))") }
        if let to = filter.to { sql.append(" AND a.due_at < \(try sql.bind(to))") }
        if filter.overdue { sql.append(" AND NOT a.done AND a.due_at < now()") }
        if let done = filter.done { sql.append(" AND a.done = \(try sql.bind(done))") }
        try sql.appendPage(filter.page, in: Keyset([("a.due_at", "::timestamptz"), ("a.id", "::uuid")]))
        return try await client.page(sql.query, limit: filter.page.limit, logger: logger)
    }

    func create(_ input: ActivityFields) async throws -> Document {
        let (fields, due) = try input.validated()
        return try await client.transaction(logger: logger) { connection in
            var fields = fields
            fields.owner = try await staff.owner(fields.owner, on: connection)
            return try await insert(fields, due: due, callList: nil, on: connection)
        }
    }

    /// A new activity with its event, in the caller's transaction; `doneWith` makes it a done one
    /// with that outcome (a call on a call list), whose event is `completed`.
    func insert(_ fields: ActivityFields, due: Date, callList: UUID?, doneWith outcome: String? = nil, on connection: PostgresConnection)
        async throws -> Document
    {
        let contactId = try await replica.current(fields.contactId, field: "contact_id", on: connection)
        let id = UUID()
        var sql = SQLBuilder()
        var columns = try Self.columns(fields, due: due, contactId: contactId, into: &sql)
        columns += [("id", try sql.bind(id)), ("call_list_id", try sql.bind(callList))]
        if let outcome { columns += [("done", "true"), ("done_at", DealStore.now), ("outcome", try sql.bind(outcome))] }
        sql.append("""
            INSERT INTO \(activities) AS a (\(columns.map(\.0).joined(separator: ", "))) VALUES (\(columns.map(\.1).joined(separator: ", ")))
            RETURNING \(document)
            """)
        let created = try await checked(sql, on: connection)
        try await outbox.append(
            try created.event(outcome == nil ? SalesEvents.activityCreated : SalesEvents.activityCompleted, producer: "sales", aggregateId: id, version: 1),
            on: connection, logger: logger
        )
        return created
    }

    func update(_ id: UUID, patch: JSONValue, expectedVersion: Int64) async throws -> Document {
        guard case let .object(members) = patch else { throw SalesError.malformed("the body must be a JSON object (a merge patch)") }
        var check = FieldChecker()
        for name in members.keys.sorted() where ActivityFields.serviceSet.contains(name) {
            check.fail(name, name == "done" || name == "outcome" ? "is set by POST /api/v1/activities/{id}/complete" : "is set by the service")
        }
        try check.check(SalesError.invalid)
        return try await change(id, expectedVersion: expectedVersion, event: SalesEvents.activityUpdated) { current, connection, sql in
            let (valid, due) = try Document.writableFields(
                ActivityFields.self, of: current, patchedWith: patch, alsoReadOnly: ActivityFields.serviceSet, invalid: SalesError.invalid
            ).validated()
            var fields = valid
            fields.owner = try await staff.owner(patched: fields.owner, stored: current, on: connection)
            // The stored contact may have been deleted since; only a contact the patch names is checked.
            let contactId = members["contact_id"] == nil
                ? fields.contactId : try await replica.current(fields.contactId, field: "contact_id", on: connection)
            return try Self.columns(fields, due: due, contactId: contactId, into: &sql).map { "\($0.0) = \($0.1)" }.joined(separator: ", ")
        }
    }

    func complete(_ id: UUID, _ completion: ActivityCompletion, expectedVersion: Int64?) async throws -> Document {
        var check = FieldChecker()
        let outcome = check.text(completion.outcome, "outcome", maximum: 200)
        let notes = check.text(completion.notes, "notes", maximum: 20_000)
        try check.check(SalesError.invalid)
        return try await change(id, expectedVersion: expectedVersion, event: SalesEvents.activityCompleted) { current, _, sql in
            if try current.decode(DoneFlag.self).done {
                throw SalesError.conflict(.activityDone, "activity \(id.lowercased) is done already")
            }
            return "done = true, done_at = \(DealStore.now), outcome = \(try sql.bind(outcome)), notes = coalesce(\(try sql.bind(notes)), notes)"
        }
    }

    func delete(_ id: UUID, expectedVersion: Int64?) async throws {
        _ = try await change(id, expectedVersion: expectedVersion, event: SalesEvents.activityDeleted) { _, _, _ in
            "deleted_at = \(DealStore.now)"
        }
    }

    // MARK: Parts

    struct DoneFlag: Decodable { var done: Bool }

    /// Locks the activity, checks the version, applies the assignments `body` gives (binding into
    /// the statement it is handed), bumps the version and appends `event`.
    private func change(
        _ id: UUID, expectedVersion: Int64?, event: String, _ body: @escaping @Sendable (Document, PostgresConnection, inout SQLBuilder) async throws -> String
    ) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            var read = SQLBuilder()
            read.append("SELECT \(document) FROM \(activities) a WHERE a.id = \(try read.bind(id)) AND a.deleted_at IS NULL FOR UPDATE")
            guard let current = try await connection.document(read.query, logger: logger) else { throw SalesError.notFound("activity \(id.lowercased)") }
            let version = try current.identity.version ?? 0
            if let expectedVersion, expectedVersion != version { throw SalesError.versionMismatch(expected: expectedVersion, current: version) }
            var sql = SQLBuilder()
            let assignments = try await body(current, connection, &sql)
            sql.append("""
                UPDATE \(activities) AS a SET \(assignments), version = version + 1, updated_at = \(DealStore.now)
                WHERE a.id = \(try sql.bind(id)) RETURNING \(document)
                """)
            let changed = try await checked(sql, on: connection)
            try await outbox.append(try changed.event(event, producer: "sales", aggregateId: id, version: version + 1), on: connection, logger: logger)
            return changed
        }
    }

    /// Runs a write whose deal or lead may not exist: a foreign key it breaks is an invalid field, named.
    private func checked(_ sql: SQLBuilder, on connection: PostgresConnection) async throws -> Document {
        do {
            return try await connection.document(returnedBy: sql.query, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            let constraint = error.serverInfo?[.constraintName] ?? ""
            let field = constraint.contains("lead") ? "lead_id" : "deal_id"
            throw SalesError.invalid(field, "no such \(field == "lead_id" ? "lead" : "deal") exists")
        }
    }

    private static func columns(_ fields: ActivityFields, due: Date, contactId: UUID?, into sql: inout SQLBuilder) throws -> [(String, String)] {
        [
            ("kind", try sql.bind((fields.kind ?? .task).rawValue)),
            ("subject", try sql.bind(fields.subject ?? "")),
            ("notes", try sql.bind(fields.notes)),
            ("due_at", "date_trunc('milliseconds', \(try sql.bind(due))::timestamptz)"),
            ("duration_minutes", try sql.bind(fields.durationMinutes.map(Int32.init))),
            ("owner", try sql.bind(fields.owner)),
            ("contact_id", try sql.bind(contactId)),
            ("deal_id", try sql.bind(fields.dealId)),
            ("lead_id", try sql.bind(fields.leadId)),
        ]
    }
}
