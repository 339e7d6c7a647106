import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// What became of an inbound message, as its acknowledgement says.
enum InboundResult: String, Sendable {
    case accepted, duplicate, stale, rejected
}

/// The answer to one order message.
struct OrderOutcome: Sendable {
    var result: InboundResult
    var orderId: UUID?
    var matchedBy: String?
    var errors: [FieldError] = []
}

/// An order message to write, and the source that sent it.
struct IncomingOrder: Sendable {
    var order: InboundOrder
    var source: String
}

/// Keeps the newest version of each order, whatever order its messages arrive in: a version
/// older than the one kept changes nothing (`stale`) but its status joins the history; the same
/// version again is a `duplicate`; a newer one replaces the order, its lines and its customer
/// link, with the event that says what changed. Locks on the orders' numbers serialize messages
/// of one order across lanes and replicas.
///
/// The orders a lane took together are written together, in a few statements over all of them
/// (locks; what is kept; the writes; events and alerts), so a batch costs about what one order
/// did: the time went to round trips and planning, not to the rows. Only a customer the source
/// has not linked yet, or one an order names by CRM id, is matched order by order
/// (`CustomerMatching`). The caller gives each order number once.
struct OrderWriter: ServiceStore {
    let service: ServiceDependencies
    let matching: CustomerMatching
    let alerts: AlertStore

    var orders: String { schema.table("orders") }

    func write(_ incoming: [IncomingOrder], on connection: PostgresConnection) async throws -> [OrderOutcome] {
        guard !incoming.isEmpty else { return [] }
        let byNumber = incoming.filter(\.order.customer.isNamedByNumber)
        try await lock(
            incoming.map { "erp.order:\($0.source):\($0.order.orderNumber)" }
                + byNumber.map { CustomerMatching.lockKey(source: $0.source, erpId: $0.order.customer.erpId) },
            on: connection
        )
        let (kept, read) = try await stored(incoming, on: connection)
        var links = read

        var outcomes = [OrderOutcome?](repeating: nil, count: incoming.count)
        var history: [(id: UUID, order: InboundOrder)] = []
        var written: [Fresh] = []
        for (index, item) in incoming.enumerated() {
            if let kept = kept[index], kept.version >= item.order.version {
                // A late version completes the history, which the sequence rules read.
                history.append((kept.id, item.order))
                outcomes[index] = OrderOutcome(result: kept.version == item.order.version ? .duplicate : .stale, orderId: kept.id, matchedBy: kept.matchedBy)
                continue
            }
            switch try await match(item, kept: kept[index], links: &links, on: connection) {
            case let .success(found):
                let fresh = Fresh(index: index, id: kept[index]?.id ?? UUID(), kept: kept[index], match: found)
                written.append(fresh)
                history.append((fresh.id, item.order))
                outcomes[index] = OrderOutcome(result: .accepted, orderId: fresh.id, matchedBy: found.matchedBy)
            case let .failure(rejection):
                outcomes[index] = OrderOutcome(result: .rejected, errors: rejection.errors)
            }
        }
        let grown = try await store(written, incoming, history: history, on: connection)
        try await announce(written, incoming, judging: grown, on: connection)
        return outcomes.map { $0! }
    }

    /// An order to be written, with what was kept of it and the customer it was matched to.
    private struct Fresh {
        var index: Int
        var id: UUID
        var kept: Kept?
        var match: CustomerMatch
    }

    private struct Kept {
        var id: UUID
        var version: Int64
        var status: String
        var erpCustomerId: String
        var matchedBy: String
    }

    private struct CustomerKey: Hashable {
        var source: String
        var erpId: String
    }

    /// Transaction locks on `keys`, taken in one order so that two batches never wait for each other in a circle.
    private func lock(_ keys: [String], on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("""
            SELECT count(pg_advisory_xact_lock(k.key))
            FROM (SELECT DISTINCT hashtext(k) AS key FROM unnest(\(try sql.bind(keys))::text[]) AS k ORDER BY 1) k
            """)
        try await connection.query(sql.query, logger: logger)
    }

    /// What is kept of each order, and the source's link of each customer number (which only
    /// orders naming their customer by number may use: only theirs are locked).
    private func stored(_ incoming: [IncomingOrder], on connection: PostgresConnection) async throws -> ([Kept?], [CustomerKey: CustomerMatch]) {
        var sql = SQLBuilder()
        sql.append("""
            SELECT k.i::int, o.id, o.version, o.status, o.erp_customer_id, o.matched_by, l.erp_id IS NOT NULL, l.contact_id, l.account_id
            FROM unnest(\(try sql.bind(incoming.map(\.source)))::text[], \(try sql.bind(incoming.map(\.order.orderNumber)))::text[],
                \(try sql.bind(incoming.map(\.order.customer.erpId)))::text[]) WITH ORDINALITY AS k (source, order_number, erp_id, i)
            LEFT JOIN \(orders) o ON o.source = k.source AND o.order_number = k.order_number
            LEFT JOIN \(schema.table("customer_links")) l ON l.source = k.source AND l.erp_id = k.erp_id
            """)
        var kept = [Kept?](repeating: nil, count: incoming.count)
        var links: [CustomerKey: CustomerMatch] = [:]
        let rows = try await connection.query(sql.query, logger: logger)
            .decode((Int, UUID?, Int64?, String?, String?, String?, Bool, UUID?, UUID?).self)
        for try await (index, id, version, status, customer, matchedBy, linked, contact, account) in rows {
            let item = incoming[index - 1]
            if let id, let version, let status, let customer, let matchedBy {
                kept[index - 1] = Kept(id: id, version: version, status: status, erpCustomerId: customer, matchedBy: matchedBy)
            }
            if linked, item.order.customer.isNamedByNumber {
                links[CustomerKey(source: item.source, erpId: item.order.customer.erpId)] = CustomerMatch(
                    contactId: contact, accountId: account, matchedBy: "erp_id"
                )
            }
        }
        return (kept, links)
    }

    /// The customer of an order: the source's link read for the batch when the order names its
    /// customer by number only (as it was matched before when it is the customer the kept version
    /// had), else matched on its own; what that links, later orders of the batch find in `links`.
    private func match(_ item: IncomingOrder, kept: Kept?, links: inout [CustomerKey: CustomerMatch], on connection: PostgresConnection)
        async throws -> Result<CustomerMatch, Rejection>
    {
        let customer = item.order.customer
        let key = CustomerKey(source: item.source, erpId: customer.erpId)
        if customer.isNamedByNumber, var link = links[key] {
            if let kept, kept.erpCustomerId == customer.erpId { link.matchedBy = kept.matchedBy }
            return .success(link)
        }
        let matched = try await matching.match(customer, source: item.source, unlinked: customer.isNamedByNumber, correlation: .timeOrdered(), on: connection)
        if case let .success(found) = matched {
            links[key] = CustomerMatch(contactId: found.contactId, accountId: found.accountId, matchedBy: "erp_id")
        }
        return matched
    }

    /// Writes the orders, their lines and the history in one statement (the lines of orders kept
    /// before are cleared first); returns the orders whose history grew.
    private func store(_ written: [Fresh], _ incoming: [IncomingOrder], history: [(id: UUID, order: InboundOrder)], on connection: PostgresConnection)
        async throws -> [UUID]
    {
        let replaced = written.filter { $0.kept != nil }.map(\.id)
        if !replaced.isEmpty {
            var clear = SQLBuilder()
            clear.append("DELETE FROM \(schema.table("order_lines")) WHERE order_id = ANY(\(try clear.bind(replaced))::uuid[])")
            try await connection.query(clear.query, logger: logger)
        }
        guard !history.isEmpty else { return [] }
        var sql = SQLBuilder()
        sql.append("WITH ")
        if !written.isEmpty {
            sql.append("upserted AS (")
            try appendUpsert(written, incoming, into: &sql)
            sql.append("), lines AS (")
            try appendLines(written, incoming, into: &sql)
            sql.append("), ")
        }
        sql.append("""
            history AS (
                INSERT INTO \(schema.table("order_status_history")) (order_id, version, status, status_at)
                SELECT * FROM unnest(\(try sql.bind(history.map(\.id)))::uuid[], \(try sql.bind(history.map(\.order.version)))::int8[],
                    \(try sql.bind(history.map(\.order.status.rawValue)))::text[], \(try sql.bind(history.map(\.order.statusAt)))::timestamptz[])
                ON CONFLICT DO NOTHING RETURNING order_id
            )
            SELECT DISTINCT order_id FROM history
            """)
        var grown: [UUID] = []
        for try await id in try await connection.query(sql.query, logger: logger).decode(UUID.self) { grown.append(id) }
        return grown
    }

    private func appendUpsert(_ written: [Fresh], _ incoming: [IncomingOrder], into sql: inout SQLBuilder) throws {
        let items = written.map { incoming[$0.index] }
        let orders = items.map(\.order)
        // What may be absent travels as one JSON object per order; the rest as typed arrays.
        let optional: [String] = written.map { item in
            let order = incoming[item.index].order
            var fields: [String: Any] = [:]
            fields["contact_id"] = item.match.contactId?.lowercased
            fields["account_id"] = item.match.accountId?.lowercased
            fields["net"] = order.net
            fields["tax"] = order.tax
            fields["payment"] = order.payment?.json
            fields["delivery_address"] = order.deliveryAddress
            fields["crm_deal_id"] = order.crmDealId?.lowercased
            return InboundOrder.json(fields)
        }
        sql.append("""
            INSERT INTO \(self.orders) AS o (id, source, order_number, version, status, status_at, ordered_at, erp_customer_id, contact_id,
                account_id, matched_by, customer, currency, net, tax, gross, payment, delivery_address, crm_deal_id, crm_quote_id)
            SELECT x.id, x.source, x.order_number, x.version, x.status, x.status_at, x.ordered_at, x.erp_customer_id,
                (x.optional->>'contact_id')::uuid, (x.optional->>'account_id')::uuid, x.matched_by, x.customer::jsonb, x.currency,
                (x.optional->>'net')::numeric, (x.optional->>'tax')::numeric, x.gross::numeric, (x.optional->>'payment')::jsonb,
                (x.optional->>'delivery_address')::jsonb, (x.optional->>'crm_deal_id')::uuid,
                -- The quote of the request this source was sent for the deal, if the order answers one.
                (SELECT r.quote_id FROM \(schema.table("order_requests")) r
                 WHERE r.deal_id = (x.optional->>'crm_deal_id')::uuid AND r.source = x.source AND r.status = 'sent'
                 ORDER BY r.requested_at DESC LIMIT 1)
            FROM unnest(\(try sql.bind(written.map(\.id)))::uuid[], \(try sql.bind(items.map(\.source)))::text[],
                \(try sql.bind(orders.map(\.orderNumber)))::text[], \(try sql.bind(orders.map(\.version)))::int8[],
                \(try sql.bind(orders.map(\.status.rawValue)))::text[], \(try sql.bind(orders.map(\.statusAt)))::timestamptz[],
                \(try sql.bind(orders.map(\.orderedAt)))::timestamptz[], \(try sql.bind(orders.map(\.customer.erpId)))::text[],
                \(try sql.bind(written.map(\.match.matchedBy)))::text[], \(try sql.bind(orders.map(\.customer.json)))::text[],
                \(try sql.bind(orders.map(\.currency)))::text[], \(try sql.bind(orders.map(\.gross)))::text[],
                \(try sql.bind(optional))::jsonb[])
                AS x (id, source, order_number, version, status, status_at, ordered_at, erp_customer_id, matched_by, customer, currency,
                    gross, optional)
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status, status_at = EXCLUDED.status_at,
                ordered_at = EXCLUDED.ordered_at, erp_customer_id = EXCLUDED.erp_customer_id, contact_id = EXCLUDED.contact_id,
                account_id = EXCLUDED.account_id, matched_by = EXCLUDED.matched_by, customer = EXCLUDED.customer,
                currency = EXCLUDED.currency, net = EXCLUDED.net, tax = EXCLUDED.tax, gross = EXCLUDED.gross,
                payment = EXCLUDED.payment, delivery_address = EXCLUDED.delivery_address,
                crm_deal_id = coalesce(EXCLUDED.crm_deal_id, o.crm_deal_id), crm_quote_id = coalesce(EXCLUDED.crm_quote_id, o.crm_quote_id),
                updated_at = now()
            """)
    }

    /// The lines go in with their orders: the foreign key is checked when the statement ends.
    private func appendLines(_ written: [Fresh], _ incoming: [IncomingOrder], into sql: inout SQLBuilder) throws {
        var rows: [[String: Any]] = []
        for item in written {
            for line in incoming[item.index].order.lines {
                var row: [String: Any] = [
                    "order_id": item.id.lowercased, "line_no": line.lineNo, "quantity": line.quantity, "line_total": line.lineTotal,
                    "serial_numbers": line.serialNumbers,
                ]
                row["sku"] = line.sku
                row["description"] = line.description
                row["unit_price"] = line.unitPrice
                row["discount_percent"] = line.discountPercent
                row["tax_amount"] = line.taxAmount
                row["delivered_quantity"] = line.deliveredQuantity
                rows.append(row)
            }
        }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: rows), as: UTF8.self)
        sql.append("""
            INSERT INTO \(schema.table("order_lines")) (order_id, line_no, sku, description, quantity, unit_price, discount_percent,
                tax_amount, line_total, delivered_quantity, serial_numbers)
            SELECT x.order_id, x.line_no, x.sku, x.description, x.quantity, x.unit_price, x.discount_percent, x.tax_amount, x.line_total,
                x.delivered_quantity, coalesce(x.serial_numbers, '{}')
            FROM jsonb_to_recordset(\(try sql.bind(json))::jsonb) AS x (order_id uuid, line_no integer, sku text, description text,
                quantity numeric, unit_price numeric, discount_percent numeric, tax_amount numeric, line_total numeric,
                delivered_quantity numeric, serial_numbers text[])
            """)
    }

    /// The events of the written orders, built in the database from the stored orders (no document
    /// passes through this process to become an event), and the alerts the rules raise on the
    /// orders whose history grew, with theirs: one statement.
    private func announce(_ written: [Fresh], _ incoming: [IncomingOrder], judging grown: [UUID], on connection: PostgresConnection) async throws {
        guard !written.isEmpty || !grown.isEmpty else { return }
        let types = written.map { item -> String in
            guard let kept = item.kept else { return ERPEvents.orderReceived }
            return kept.status != incoming[item.index].order.status.rawValue ? ERPEvents.orderStatusChanged : ERPEvents.orderUpdated
        }
        var sql = SQLBuilder()
        sql.append("WITH raised AS (")
        try alerts.appendRaise(orders: grown, into: &sql)
        sql.append("""
            ), documents AS (
                SELECT w.type, o.id AS aggregate_id, o.version AS aggregate_version, \(schema.quoted).order_document(o) AS data
                FROM unnest(\(try sql.bind(written.map(\.id)))::uuid[], \(try sql.bind(types))::text[]) AS w (id, type)
                JOIN \(orders) o ON o.id = w.id
                UNION ALL
                SELECT \(try sql.bind(ERPEvents.alertRaised))::text, r.id, r.version, \(alerts.documentOf("r"))
                FROM raised r
            ), events AS (
            """)
        try outbox.appendEvents(fromTyped: "documents", producer: ERPEvents.producer, into: &sql)
        sql.append(" RETURNING type) SELECT count(*) FILTER (WHERE type = \(try sql.bind(ERPEvents.alertRaised)))::int FROM events, \(try outbox.notification(into: &sql))")
        for try await count in try await connection.query(sql.query, logger: logger).decode(Int.self) where count > 0 {
            logger.notice("suspicious transactions", metadata: ["orders": "\(grown.count)", "alerts": "\(count)"])
        }
    }
}
