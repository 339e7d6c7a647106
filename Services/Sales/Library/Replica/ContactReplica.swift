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
struct ContactReplica: Sendable {
    let schema: SchemaName
    let outbox: Outbox
    let logger: Logger

    var contacts: String { schema.table("contacts") }

    var handlers: [EventHandler] {
        [ContactEvents.contactCreated, ContactEvents.contactUpdated, ContactEvents.contactDeleted].map { type in
            EventHandler(type: type) { envelope, context in
                let contact = try envelope.payload(as: ContactSnapshot.self)
                guard contact.id == envelope.aggregateId else {
                    throw PermanentEventError("the contact's id \(contact.id.lowercased) is not the event's aggregate_id")
                }
                try await keep(contact, version: envelope.aggregateVersion, deleted: type == ContactEvents.contactDeleted, on: context.connection)
            }
        } + [
            EventHandler(type: ContactEvents.contactMerged) { envelope, context in
                let merge = try envelope.payload(as: ContactMerge.self)
                try await keep(merge.survivor, version: envelope.aggregateVersion, deleted: false, on: context.connection)
                try await repoint(merge.mergedIds, to: merge.survivor.id, on: context.connection)
            }
        ]
    }

    /// The contact's current id for a deal: the survivor of a merge, the id itself when the replica
    /// does not know it yet (its events may still be on their way). A deleted contact is refused.
    func current(_ id: UUID?, field: String, on connection: PostgresConnection) async throws -> UUID? {
        guard let id else { return nil }
        var sql = SQLBuilder()
        sql.append("SELECT merged_into, deleted FROM \(contacts) WHERE id = \(try sql.bind(id))")
        for try await (mergedInto, deleted) in try await connection.query(sql.query, logger: logger).decode((UUID?, Bool).self) {
            if let mergedInto { return mergedInto }
            if deleted { throw Problem.validation([FieldError(field, "contact \(id.lowercased) has been deleted")]) }
        }
        return id
    }

    /// Upserts the contact unless the replica already holds this version or a newer one.
    private func keep(_ contact: ContactSnapshot, version: Int64, deleted: Bool, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(contacts) AS c (id, name, account_id, company, region, country, customer_type, lead_source, deleted, aggregate_version)
            VALUES (\(try sql.bind(contact.id)), \(try sql.bind(contact.name)), \(try sql.bind(contact.accountId)), \(try sql.bind(contact.company)),
                \(try sql.bind(contact.address?.region)), \(try sql.bind(contact.address?.country)), \(try sql.bind(contact.customerType)),
                \(try sql.bind(contact.leadSource)), \(try sql.bind(deleted || contact.deletedAt != nil)), \(try sql.bind(version)))
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
