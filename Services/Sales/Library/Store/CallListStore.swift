import Contracts
import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// Telemarketing call lists: contacts to call with a script. Each call's outcome goes on the
/// contact's entry, and the call is a done activity, which the contacts service logs as an
/// interaction.
struct CallListStore: ServiceStore {
    let service: ServiceDependencies
    let activities: ActivityStore

    var lists: String { schema.table("call_lists") }
    var entries: String { schema.table("call_list_entries") }
    var document: String { "\(schema.quoted).call_list_document(l)::text" }
    static let maximumContacts = 10_000

    func list(_ filter: CallListFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("SELECT \(document), ARRAY[\(schema.quoted).ts(l.created_at), l.id::text] FROM \(lists) l WHERE true")
        if let owner = filter.owner { sql.append(" AND l.owner = \(try sql.bind(owner))") }
        try sql.appendPage(filter.page, in: .creation("l"))
        return try await client.page(sql.query, limit: filter.page.limit, logger: logger)
    }

    func get(_ id: UUID) async throws -> Document {
        try await client.document(
            document, from: lists, as: "l", id: id, orThrow: SalesError.notFound("call list \(id.lowercased)"), logger: logger
        )
    }

    func create(_ input: CallListFields) async throws -> Document {
        var check = FieldChecker()
        let name = check.text(input.name, "name", required: true)
        let script = check.text(input.script, "script", maximum: 20_000)
        let owner = check.text(input.owner, "owner")
        if (input.contactIds ?? []).count > Self.maximumContacts { check.fail("contact_ids", "may name at most \(Self.maximumContacts) contacts") }
        try check.check(SalesError.invalid)
        let id = UUID()
        return try await client.transaction(logger: logger) { connection in
            let owner = try await activities.staff.owner(owner, on: connection)
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(lists) (id, name, script, owner)
                VALUES (\(try sql.bind(id)), \(try sql.bind(name)), \(try sql.bind(script)), \(try sql.bind(owner)))
                """)
            try await connection.query(sql.query, logger: logger)
            try await add(input.contactIds ?? [], to: id, on: connection)
            return try await read(id, on: connection)
        }
    }

    /// More contacts at the end of the list; ones it has already are left where they are.
    func addContacts(_ contactIds: [UUID], to id: UUID) async throws -> Document {
        guard contactIds.count <= Self.maximumContacts else {
            throw SalesError.invalid("contact_ids", "may name at most \(Self.maximumContacts) contacts")
        }
        return try await client.transaction(logger: logger) { connection in
            var lock = SQLBuilder()
            lock.append("SELECT id FROM \(lists) WHERE id = \(try lock.bind(id)) FOR UPDATE")
            guard try await !connection.texts(lock.query, logger: logger).isEmpty else { throw SalesError.notFound("call list \(id.lowercased)") }
            try await add(contactIds, to: id, on: connection)
            var bump = SQLBuilder()
            bump.append("UPDATE \(lists) SET version = version + 1, updated_at = \(DealStore.now) WHERE id = \(try bump.bind(id))")
            try await connection.query(bump.query, logger: logger)
            return try await read(id, on: connection)
        }
    }

    /// The list's entries in calling order, with what the replica knows of each contact;
    /// `to_call=true` leaves out those called already.
    func entryPage(_ id: UUID, toCall: Bool, page: PageRequest) async throws -> RawPage {
        _ = try await get(id)
        var sql = SQLBuilder()
        sql.append("""
            SELECT jsonb_build_object('contact_id', e.contact_id, 'name', nullif(c.name, ''), 'company', c.company, 'region', c.region,
                    'position', e.position, 'outcome', e.outcome, 'notes', e.notes, 'called_at', \(schema.quoted).ts(e.called_at),
                    'called_by', e.called_by, 'calls', e.calls)::text,
                ARRAY[e.position::text]
            FROM \(entries) e LEFT JOIN \(schema.table("contacts")) c ON c.id = e.contact_id
            WHERE e.call_list_id = \(try sql.bind(id))
            """)
        if toCall { sql.append(" AND e.called_at IS NULL") }
        if let cursor = page.cursor, let position = Int32(cursor.values[0]) { sql.append(" AND e.position > \(try sql.bind(position))") }
        sql.append(" ORDER BY e.position LIMIT \(page.limit + 1)")
        return try await client.page(sql.query, limit: page.limit, logger: logger)
    }

    /// One call to a contact of the list: its outcome on the entry, and a done call activity.
    func recordCall(_ id: UUID, contact: UUID, _ call: ActivityCompletion) async throws -> Document {
        var check = FieldChecker()
        var outcome: CallOutcome?
        if let text = call.outcome {
            outcome = CallOutcome(rawValue: text)
            if outcome == nil { check.fail("outcome", "'\(text)' is not one of: \(CallOutcome.allowedValues)") }
        } else {
            check.fail("outcome", "is required: one of \(CallOutcome.allowedValues)")
        }
        let notes = check.text(call.notes, "notes", maximum: 20_000)
        let calledBy = check.text(call.calledBy, "called_by")
        try check.check(SalesError.invalid)
        return try await client.transaction(logger: logger) { [outcome] connection in
            let calledBy = try await activities.staff.owner(calledBy, field: "called_by", on: connection)
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(entries) AS e SET outcome = \(try sql.bind(outcome!.rawValue)), notes = coalesce(\(try sql.bind(notes)), e.notes),
                    called_at = \(DealStore.now), called_by = coalesce(\(try sql.bind(calledBy)), l.owner), calls = e.calls + 1
                FROM \(lists) l WHERE l.id = e.call_list_id AND e.call_list_id = \(try sql.bind(id)) AND e.contact_id = \(try sql.bind(contact))
                RETURNING l.name, e.called_by
                """)
            var found: (String, String?)?
            for try await row in try await connection.query(sql.query, logger: logger).decode((String, String?).self) { found = row }
            guard let (listName, caller) = found else { throw SalesError.notFound("contact \(contact.lowercased) on call list \(id.lowercased)") }
            var bump = SQLBuilder()
            bump.append("UPDATE \(lists) SET version = version + 1, updated_at = \(DealStore.now) WHERE id = \(try bump.bind(id))")
            try await connection.query(bump.query, logger: logger)
            var activity = ActivityFields()
            activity.kind = .call
            activity.subject = "Call list: \(listName)"
            activity.notes = notes
            activity.owner = caller
            activity.contactId = contact
            return try await activities.insert(activity, due: Date(), callList: id, doneWith: outcome!.rawValue, on: connection)
        }
    }

    private func add(_ contactIds: [UUID], to id: UUID, on connection: PostgresConnection) async throws {
        guard !contactIds.isEmpty else { return }
        // A merged id is called as its survivor; a contact the replica knows as deleted is left out.
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(entries) (call_list_id, contact_id, position)
            SELECT \(try sql.bind(id)), t.contact,
                coalesce((SELECT max(position) FROM \(entries) WHERE call_list_id = \(try sql.bind(id))), 0)
                    + row_number() OVER (ORDER BY t.first)
            FROM (SELECT coalesce(c.merged_into, x.id) AS contact, min(x.n) AS first
                FROM unnest(\(try sql.bind(contactIds))::uuid[]) WITH ORDINALITY AS x (id, n)
                LEFT JOIN \(schema.table("contacts")) c ON c.id = x.id
                WHERE c.merged_into IS NOT NULL OR NOT coalesce(c.deleted, false)
                GROUP BY 1) t
            ON CONFLICT (call_list_id, contact_id) DO NOTHING
            """)
        try await connection.query(sql.query, logger: logger)
    }

    private func read(_ id: UUID, on connection: PostgresConnection) async throws -> Document {
        var sql = SQLBuilder()
        sql.append("SELECT \(document) FROM \(lists) l WHERE l.id = \(try sql.bind(id))")
        return try await connection.document(returnedBy: sql.query, logger: logger)
    }
}
