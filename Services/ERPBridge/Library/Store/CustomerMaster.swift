import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Customer master data out: `<source>.customer` on `erp.outbound` (`customer_master` in SQL says
/// what it holds) for each source that knows the customer, through the outbox, so a message is
/// sent exactly when the change that causes it commits and never for one rolled back.
struct CustomerMaster: ServiceStore {
    let service: ServiceDependencies

    static let messageType = "erp.customer"

    /// Sends the customer's master data to every source that links it, as the replica now has it.
    func customerChanged(_ customer: UUID, cause: EventEnvelope?, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        let id = try sql.bind(customer)
        // A pending link is sent once the contacts service confirms whom it names (`ProspectAnswers`).
        try send(where: "(l.contact_id = \(id) OR l.account_id = \(id)) AND NOT l.pending", correlation: cause?.correlationId, into: &sql)
        try await connection.query(sql.query, logger: logger)
    }

    /// Sends one source's link of a customer (after the link was made).
    func send(source: String, erpId: String, correlation: UUID?, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        try send(where: "l.source = \(try sql.bind(source)) AND l.erp_id = \(try sql.bind(erpId))", correlation: correlation, into: &sql)
        try await connection.query(sql.query, logger: logger)
    }

    /// Every customer of the CRM (its accounts, and the contacts that belong to none), or those
    /// changed since `since`, with the source's number where it has one: an ERP's initial load and
    /// its repair, in one statement. Returns how many were sent.
    func resync(source: String, since: Date?, on connection: PostgresConnection) async throws -> Int {
        var sql = SQLBuilder()
        let sourceValue = try sql.bind(source)
        let changed = try since.map { " AND (document->>'updated_at')::timestamptz >= \(try sql.bind($0))" } ?? ""
        sql.append("""
            WITH customers AS (
                SELECT id FROM \(schema.table("crm_accounts")) WHERE NOT deleted\(changed)
                UNION ALL
                SELECT id FROM \(schema.table("crm_contacts")) WHERE NOT deleted AND account_id IS NULL\(changed)
            ), sent AS (
                INSERT INTO \(schema.table("outbox")) (id, type, aggregate_id, aggregate_version, payload, correlation_id, exchange, routing_key)
                SELECT m.id, \(try sql.bind(Self.messageType)), c.id, 0, m.document::text::json, m.id,
                    \(try sql.bind(CRMTopology.erpOutboundExchange)), \(sourceValue) || '.customer'
                FROM customers c
                LEFT JOIN LATERAL (
                    SELECT l.erp_id FROM \(schema.table("customer_links")) l
                    WHERE l.source = \(sourceValue) AND (l.account_id = c.id OR l.contact_id = c.id) ORDER BY l.linked_at DESC LIMIT 1
                ) l ON true
                CROSS JOIN LATERAL (
                    SELECT \(schema.quoted).time_ordered_uuid() AS id, \(schema.quoted).customer_master(c.id, l.erp_id) AS document
                ) m
                RETURNING 1
            )
            SELECT count(*)::int FROM sent, \(try outbox.notification(into: &sql))
            """)
        for try await count in try await connection.query(sql.query, logger: logger).decode(Int.self) { return count }
        return 0
    }

    /// One message per link matching `condition` (over `customer_links l`) whose customer the
    /// replica knows; the statement returns a row per message.
    private func send(where condition: String, correlation: UUID?, into sql: inout SQLBuilder) throws {
        let correlationValue = try correlation.map { "\(try sql.bind($0))::uuid" } ?? "NULL::uuid"
        sql.append("""
            WITH sent AS (
                INSERT INTO \(schema.table("outbox")) (id, type, aggregate_id, aggregate_version, payload, correlation_id, exchange, routing_key)
                SELECT m.id, \(try sql.bind(Self.messageType)), m.customer, 0, m.document::text::json, coalesce(\(correlationValue), m.id),
                    \(try sql.bind(CRMTopology.erpOutboundExchange)), l.source || '.customer'
                FROM \(schema.table("customer_links")) l
                CROSS JOIN LATERAL (
                    SELECT \(schema.quoted).time_ordered_uuid() AS id, coalesce(l.account_id, l.contact_id) AS customer,
                        \(schema.quoted).customer_master(coalesce(l.account_id, l.contact_id), l.erp_id) AS document
                ) m
                WHERE \(condition) AND m.document IS NOT NULL
                RETURNING 1
            )
            SELECT 1 FROM sent, \(try outbox.notification(into: &sql))
            """)
    }
}
