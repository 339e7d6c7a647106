import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Sales' copy of the contacts it needs (names, region, account, customer type), kept from the
/// contacts service's events; sales never asks that service at query time. A merge re-points the
/// merged contacts' deals to the survivor.
struct ContactReplica: ServiceStore {
    let service: ServiceDependencies

    var contacts: String { schema.table("contacts") }

    var handlers: [EventHandler] {
        // A bulk import's events arrive in runs: their upserts go in one statement.
        let together = EventHandler.Together(group: "contact snapshots") { envelopes, context in
            try await keep(try envelopes.map(Self.snapshot), on: context.connection)
        }
        return [ContactEvents.contactCreated, ContactEvents.contactUpdated, ContactEvents.contactDeleted].map { type in
            EventHandler(type: type, together: together)
        } + [
            EventHandler(type: ContactEvents.contactMerged) { envelope, context in
                let merge = try envelope.payload(as: ContactMerge.self)
                try await keep([Row(merge.survivor, version: envelope.aggregateVersion, deleted: false)], on: context.connection)
                try await repoint(merge.mergedIds, to: merge.survivor.id, on: context.connection)
            }
        ]
    }

    /// A replica row from a created, updated or deleted event.
    private static func snapshot(_ envelope: EventEnvelope) throws -> Row {
        let contact = try envelope.payload(as: ContactSnapshot.self)
        guard contact.id == envelope.aggregateId else {
            throw PermanentEventError("the contact's id \(contact.id.lowercased) is not the event's aggregate_id")
        }
        return Row(contact, version: envelope.aggregateVersion, deleted: envelope.type == ContactEvents.contactDeleted)
    }

    /// The contact's current id for a deal: the survivor of a merge, the id itself when the replica
    /// does not know it yet (its events may still be on their way). A deleted contact is refused.
    func current(_ id: UUID?, field: String, on connection: PostgresConnection) async throws -> UUID? {
        guard let id else { return nil }
        var sql = SQLBuilder()
        sql.append("SELECT merged_into, deleted FROM \(contacts) WHERE id = \(try sql.bind(id))")
        for try await (mergedInto, deleted) in try await connection.query(sql.query, logger: logger).decode((UUID?, Bool).self) {
            if let mergedInto { return mergedInto }
            if deleted { throw SalesError.invalid(field, "contact \(id.lowercased) has been deleted") }
        }
        return id
    }

    /// A contact as the replica keeps it.
    struct Row: Encodable {
        var id: UUID
        var name: String
        var accountId: UUID?
        var company: String?
        var region: String?
        var country: String?
        var customerType: String?
        var leadSource: String?
        var deleted: Bool
        var aggregateVersion: Int64

        init(_ contact: ContactSnapshot, version: Int64, deleted: Bool) {
            id = contact.id
            name = contact.name
            accountId = contact.accountId
            company = contact.company
            region = contact.address?.region
            country = contact.address?.country
            customerType = contact.customerType
            leadSource = contact.leadSource
            self.deleted = deleted || contact.deletedAt != nil
            aggregateVersion = version
        }

        enum CodingKeys: String, CodingKey {
            case id, name, company, region, country, deleted
            case accountId = "account_id"
            case customerType = "customer_type"
            case leadSource = "lead_source"
            case aggregateVersion = "aggregate_version"
        }
    }

    /// Upserts each contact unless the replica already holds its version or a newer one. Of
    /// several versions of one contact only the newest is written (one statement cannot change a
    /// row twice), which is where applying them in order would end too.
    private func keep(_ rows: [Row], on connection: PostgresConnection) async throws {
        var newest: [UUID: Row] = [:]
        for row in rows where (newest[row.id]?.aggregateVersion ?? .min) < row.aggregateVersion { newest[row.id] = row }
        var sql = SQLBuilder()
        let columns = "id, name, account_id, company, region, country, customer_type, lead_source, deleted, aggregate_version"
        sql.append("""
            INSERT INTO \(contacts) AS c (\(columns))
            SELECT \(columns) FROM json_populate_recordset(NULL::\(contacts), \(try sql.bind(jsonText(newest.values.sorted { $0.id < $1.id })))::json)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, account_id = EXCLUDED.account_id, company = EXCLUDED.company,
                region = EXCLUDED.region, country = EXCLUDED.country, customer_type = EXCLUDED.customer_type,
                lead_source = EXCLUDED.lead_source, deleted = EXCLUDED.deleted, aggregate_version = EXCLUDED.aggregate_version
            WHERE c.aggregate_version < EXCLUDED.aggregate_version
            """)
        try await connection.query(sql.query, logger: logger)
    }

    /// The merged ids (and ids merged into them before) resolve to the survivor from now on; their
    /// live deals and activities name the survivor, each change a `sales.deal.updated` or
    /// `sales.activity.updated` event; their call-list entries move to it (an entry the survivor
    /// has on the same list already stays, and the merged one goes).
    private func repoint(_ merged: [UUID], to survivor: UUID, on connection: PostgresConnection) async throws {
        guard !merged.isEmpty else { return }
        var sql = SQLBuilder()
        let mergedPlaceholder = try sql.bind(merged)
        let survivorPlaceholder = try sql.bind(survivor)
        sql.append("""
            WITH aliases AS (
                INSERT INTO \(contacts) AS c (id, merged_into, deleted, aggregate_version)
                SELECT m, \(survivorPlaceholder), true, 0 FROM unnest(\(mergedPlaceholder)::uuid[]) AS m
                ON CONFLICT (id) DO UPDATE SET merged_into = EXCLUDED.merged_into, deleted = true),
            older AS (UPDATE \(contacts) SET merged_into = \(survivorPlaceholder) WHERE merged_into = ANY(\(mergedPlaceholder)::uuid[])),
            moved AS (
                UPDATE \(schema.table("deals")) AS d SET contact_id = \(survivorPlaceholder), version = version + 1,
                    updated_at = date_trunc('milliseconds', now())
                WHERE d.contact_id = ANY(\(mergedPlaceholder)::uuid[]) AND d.deleted_at IS NULL
                RETURNING d.id AS aggregate_id, d.version AS aggregate_version, \(schema.quoted).deal_document(d) AS data),
            planned AS (
                UPDATE \(schema.table("activities")) AS a SET contact_id = \(survivorPlaceholder), version = version + 1,
                    updated_at = date_trunc('milliseconds', now())
                WHERE a.contact_id = ANY(\(mergedPlaceholder)::uuid[]) AND a.deleted_at IS NULL
                RETURNING a.id AS aggregate_id, a.version AS aggregate_version, \(schema.quoted).activity_document(a) AS data),
            deal_events AS (
            """)
        try outbox.appendEvents(from: "moved", type: SalesEvents.dealUpdated, producer: "sales", into: &sql)
        sql.append(" RETURNING 1), activity_events AS (")
        try outbox.appendEvents(from: "planned", type: SalesEvents.activityUpdated, producer: "sales", into: &sql)
        sql.append(" RETURNING 1)")
        let notified = try outbox.notification(into: &sql)
        sql.append(" SELECT (SELECT count(*) FROM deal_events) + (SELECT count(*) FROM activity_events) FROM \(notified)")
        try await connection.query(sql.query, logger: logger)

        // One entry per list moves to the survivor (the first in calling order, unless the survivor
        // is on that list already); the other merged entries go.
        let table = schema.table("call_list_entries")
        var move = SQLBuilder()
        let movedIds = try move.bind(merged)
        let survivorId = try move.bind(survivor)
        move.append("""
            UPDATE \(table) SET contact_id = \(survivorId)
            WHERE (call_list_id, contact_id) IN (
                SELECT DISTINCT ON (e.call_list_id) e.call_list_id, e.contact_id FROM \(table) e
                WHERE e.contact_id = ANY(\(movedIds)::uuid[])
                    AND NOT EXISTS (SELECT FROM \(table) s WHERE s.call_list_id = e.call_list_id AND s.contact_id = \(survivorId))
                ORDER BY e.call_list_id, e.position)
            """)
        try await connection.query(move.query, logger: logger)
        var drop = SQLBuilder()
        drop.append("DELETE FROM \(table) WHERE contact_id = ANY(\(try drop.bind(merged))::uuid[])")
        try await connection.query(drop.query, logger: logger)
    }
}
