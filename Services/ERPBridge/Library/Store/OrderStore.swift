import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// Orders as the API reads them: lists of summaries, newest order first, and one order whole.
struct OrderStore: ServiceStore {
    let service: ServiceDependencies

    var orders: String { schema.table("orders") }

    func list(_ filter: OrderFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("""
            SELECT \(schema.quoted).order_summary(o)::text, ARRAY[\(schema.quoted).ts(o.ordered_at), o.id::text] FROM \(orders) o WHERE true
            """)
        if let customer = filter.customer { sql.append(" AND \(ordersOf(try sql.bind(customer)))") }
        if let account = filter.account { sql.append(" AND o.account_id = \(try sql.bind(account))") }
        if let status = filter.status { sql.append(" AND o.status = ANY(\(try sql.bind(status.map(\.rawValue))))") }
        if let source = filter.source { sql.append(" AND o.source = \(try sql.bind(source))") }
        if let from = filter.from { sql.append(" AND o.ordered_at >= \(try sql.bind(from))") }
        if let to = filter.to { sql.append(" AND o.ordered_at < \(try sql.bind(to))") }
        if let deal = filter.deal { sql.append(" AND o.crm_deal_id = \(try sql.bind(deal))") }
        try sql.appendPage(filter.page, in: Keyset([("o.ordered_at", "::timestamptz"), ("o.id", "::uuid")], descending: true))
        return try await client.page(sql.query, limit: filter.page.limit, logger: logger)
    }

    /// The condition on `orders o` that its row is the customer's (`id` a bound placeholder): a
    /// customer is a contact or an account, and an account's orders include its contacts'.
    private func ordersOf(_ id: String) -> String {
        """
        (o.contact_id = \(id) OR o.account_id = \(id)
            OR o.contact_id IN (SELECT c.id FROM \(schema.table("crm_contacts")) c WHERE c.account_id = \(id) AND NOT c.deleted))
        """
    }

    /// The customer overview's part: the customer's ten latest orders (an account's with its
    /// contacts') and how many of its alerts are open.
    func summary(of customer: UUID) async throws -> String {
        var sql = SQLBuilder()
        let id = try sql.bind(customer)
        let mine = ordersOf(id)
        sql.append("""
            SELECT jsonb_build_object(
                'orders', (SELECT coalesce(jsonb_agg(s.document ORDER BY s.ordered_at DESC, s.id DESC), '[]') FROM (
                    SELECT \(schema.quoted).order_summary(o) AS document, o.ordered_at, o.id FROM \(orders) o WHERE \(mine)
                    ORDER BY o.ordered_at DESC, o.id DESC LIMIT 10) s),
                'open_alerts', (SELECT count(*) FROM \(schema.table("alerts")) a
                    WHERE a.status = 'open' AND (a.contact_id = \(id) OR a.account_id = \(id)))
            )::text
            """)
        return try await client.texts(sql.query, logger: logger).first ?? #"{"orders":[],"open_alerts":0}"#
    }

    /// A customer's orders: a 404 for an id that names neither a contact nor an account the
    /// bridge knows, nor any order's customer.
    func list(ofCustomer customer: UUID, _ filter: OrderFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        let id = try sql.bind(customer)
        sql.append("""
            SELECT EXISTS (SELECT 1 FROM \(schema.table("crm_contacts")) WHERE id = \(id))
                OR EXISTS (SELECT 1 FROM \(schema.table("crm_accounts")) WHERE id = \(id))
                OR EXISTS (SELECT 1 FROM \(orders) WHERE contact_id = \(id) OR account_id = \(id))
            """)
        var known = false
        for try await value in try await client.query(sql.query, logger: logger).decode(Bool.self) { known = value }
        guard known else { throw ERPBridgeError.notFound("customer \(customer.lowercased)") }
        return try await list(filter)
    }

    /// The order with this number whose customer has this e-mail address (as the order gave it,
    /// or on the CRM contact it names), for the portal's status page that needs no account; a
    /// number under several sources gives the newest.
    func status(number: String, email: String) async throws -> Document {
        guard let key = Normalize.email(email), !number.trimmed.isEmpty else {
            throw ERPBridgeError.notFound("order \(number)")
        }
        var sql = SQLBuilder()
        sql.append("""
            SELECT \(schema.quoted).order_document(o)::text FROM \(orders) o
            LEFT JOIN \(schema.table("crm_contacts")) c ON c.id = o.contact_id
            WHERE o.order_number = \(try sql.bind(number.trimmed))
                AND (lower(trim(o.customer->>'email')) = \(try sql.bind(key)) OR c.email_keys @> ARRAY[\(try sql.bind(key))])
            ORDER BY o.ordered_at DESC LIMIT 1
            """)
        return try await client.document(sql.query, orThrow: ERPBridgeError.notFound("order \(number)"), logger: logger)
    }

    /// A deal's order requests, the newest first, each with the orders that answered it.
    func requests(deal: UUID) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("""
            SELECT \(schema.quoted).order_request_document(r)::text FROM \(schema.table("order_requests")) r
            WHERE r.deal_id = \(try sql.bind(deal)) ORDER BY r.requested_at DESC LIMIT 100
            """)
        return try await client.unpaged(sql.query, logger: logger)
    }

    /// The sources an order request can go to.
    func activeSources() async throws -> RawPage {
        try await client.unpaged(
            PostgresQuery(unsafeSQL: """
                SELECT jsonb_build_object('name', name, 'created_at', \(schema.quoted).ts(created_at))::text
                FROM \(schema.table("sources")) WHERE removed_at IS NULL ORDER BY name
                """),
            logger: logger
        )
    }

    func get(_ id: UUID) async throws -> Document {
        try await client.document(
            "\(schema.quoted).order_document(o)::text", from: orders, as: "o", id: id, orThrow: ERPBridgeError.notFound("order \(id.lowercased)"),
            logger: logger
        )
    }
}
