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

/// Keeps the newest version of each order, whatever order its messages arrive in: a version
/// older than the one kept changes nothing (`stale`) but its status joins the history; the same
/// version again is a `duplicate`; a newer one replaces the order, its lines and its customer
/// link, with the event that says what changed. A lock on the order's number serializes messages
/// of one order across lanes and replicas.
struct OrderWriter: ServiceStore {
    let service: ServiceDependencies
    let matching: CustomerMatching
    let alerts: AlertStore

    var orders: String { schema.table("orders") }

    func write(_ order: InboundOrder, source: String, correlation: UUID, on connection: PostgresConnection) async throws -> OrderOutcome {
        var lock = SQLBuilder()
        lock.append("SELECT pg_advisory_xact_lock(hashtext('erp.order:' || \(try lock.bind(source)) || ':' || \(try lock.bind(order.orderNumber))))")
        try await connection.query(lock.query, logger: logger)

        let kept = try await stored(source: source, number: order.orderNumber, on: connection)
        if let kept, kept.version >= order.version {
            // A late version completes the history, which the sequence rules read.
            if try await record(history: order, of: kept.id, on: connection) {
                try await alerts.evaluate(order: kept.id, correlation: correlation, on: connection)
            }
            return OrderOutcome(result: kept.version == order.version ? .duplicate : .stale, orderId: kept.id, matchedBy: kept.matchedBy)
        }
        let match: CustomerMatch
        if let kept, kept.erpCustomerId == order.customer.erpId, order.customer.crmContactId == nil, order.customer.crmAccountId == nil,
            let link = try await matching.linked(source: source, erpId: kept.erpCustomerId, on: connection)
        {
            match = CustomerMatch(contactId: link.contactId, accountId: link.accountId, matchedBy: kept.matchedBy)
        } else {
            switch try await matching.match(order.customer, source: source, correlation: correlation, on: connection) {
            case let .success(found): match = found
            case let .failure(rejection): return OrderOutcome(result: .rejected, errors: rejection.errors)
            }
        }
        let id = kept?.id ?? UUID()
        try await upsert(order, id: id, source: source, match: match, on: connection)
        try await replaceLines(of: id, with: order.lines, on: connection)
        try await record(history: order, of: id, on: connection)

        // The event is built in the database from the stored order: its document never passes
        // through this process to become an event.
        let type = kept == nil ? ERPEvents.orderReceived
            : kept?.status != order.status.rawValue ? ERPEvents.orderStatusChanged : ERPEvents.orderUpdated
        var sql = SQLBuilder()
        sql.append("""
            WITH documents AS (
                SELECT o.id AS aggregate_id, o.version AS aggregate_version, \(schema.quoted).order_document(o) AS data
                FROM \(orders) o WHERE o.id = \(try sql.bind(id))
            ), events AS (
            """)
        try outbox.appendEvents(from: "documents", type: type, producer: ERPEvents.producer, into: &sql)
        sql.append(" RETURNING 1) SELECT count(*)::int FROM events, \(try outbox.notification(into: &sql))")
        try await connection.query(sql.query, logger: logger)
        try await alerts.evaluate(order: id, correlation: correlation, on: connection)
        return OrderOutcome(result: .accepted, orderId: id, matchedBy: match.matchedBy)
    }

    private struct Kept {
        var id: UUID
        var version: Int64
        var status: String
        var erpCustomerId: String
        var matchedBy: String
    }

    private func stored(source: String, number: String, on connection: PostgresConnection) async throws -> Kept? {
        var sql = SQLBuilder()
        sql.append("""
            SELECT id, version, status, erp_customer_id, matched_by FROM \(orders)
            WHERE source = \(try sql.bind(source)) AND order_number = \(try sql.bind(number))
            """)
        for try await (id, version, status, customer, matchedBy) in try await connection.query(sql.query, logger: logger)
            .decode((UUID, Int64, String, String, String).self)
        {
            return Kept(id: id, version: version, status: status, erpCustomerId: customer, matchedBy: matchedBy)
        }
        return nil
    }

    private func upsert(_ order: InboundOrder, id: UUID, source: String, match: CustomerMatch, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(orders) AS o (id, source, order_number, version, status, status_at, ordered_at, erp_customer_id, contact_id,
                account_id, matched_by, customer, currency, net, tax, gross, payment, delivery_address, crm_deal_id, crm_quote_id)
            VALUES (\(try sql.bind(id)), \(try sql.bind(source)), \(try sql.bind(order.orderNumber)), \(try sql.bind(order.version)),
                \(try sql.bind(order.status.rawValue)), \(try sql.bind(order.statusAt)), \(try sql.bind(order.orderedAt)),
                \(try sql.bind(order.customer.erpId)), \(try sql.bind(match.contactId)), \(try sql.bind(match.accountId)),
                \(try sql.bind(match.matchedBy)), \(try sql.bind(order.customer.json))::jsonb, \(try sql.bind(order.currency)),
                \(try sql.bind(order.net))::numeric, \(try sql.bind(order.tax))::numeric, \(try sql.bind(order.gross))::numeric,
                \(try sql.bind(order.payment?.json))::jsonb, \(try sql.bind(order.deliveryAddress))::jsonb, \(try sql.bind(order.crmDealId)),
                -- The quote of the request this source was sent for the deal, if the order answers one.
                (SELECT r.quote_id FROM \(schema.table("order_requests")) r
                 WHERE r.deal_id = \(try sql.bind(order.crmDealId)) AND r.source = \(try sql.bind(source)) AND r.status = 'sent'
                 ORDER BY r.requested_at DESC LIMIT 1))
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status, status_at = EXCLUDED.status_at,
                ordered_at = EXCLUDED.ordered_at, erp_customer_id = EXCLUDED.erp_customer_id, contact_id = EXCLUDED.contact_id,
                account_id = EXCLUDED.account_id, matched_by = EXCLUDED.matched_by, customer = EXCLUDED.customer,
                currency = EXCLUDED.currency, net = EXCLUDED.net, tax = EXCLUDED.tax, gross = EXCLUDED.gross,
                payment = EXCLUDED.payment, delivery_address = EXCLUDED.delivery_address,
                crm_deal_id = coalesce(EXCLUDED.crm_deal_id, o.crm_deal_id), crm_quote_id = coalesce(EXCLUDED.crm_quote_id, o.crm_quote_id),
                updated_at = now()
            """)
        try await connection.query(sql.query, logger: logger)
    }

    private func replaceLines(of id: UUID, with lines: [InboundOrder.Line], on connection: PostgresConnection) async throws {
        let rows: [[String: Any]] = lines.map { line in
            var row: [String: Any] = [
                "line_no": line.lineNo, "quantity": line.quantity, "line_total": line.lineTotal, "serial_numbers": line.serialNumbers,
            ]
            row["sku"] = line.sku
            row["description"] = line.description
            row["unit_price"] = line.unitPrice
            row["discount_percent"] = line.discountPercent
            row["tax_amount"] = line.taxAmount
            row["delivered_quantity"] = line.deliveredQuantity
            return row
        }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: rows), as: UTF8.self)
        var clear = SQLBuilder()
        clear.append("DELETE FROM \(schema.table("order_lines")) WHERE order_id = \(try clear.bind(id))")
        try await connection.query(clear.query, logger: logger)
        var sql = SQLBuilder()
        let order = try sql.bind(id)
        sql.append("""
            INSERT INTO \(schema.table("order_lines")) (order_id, line_no, sku, description, quantity, unit_price, discount_percent,
                tax_amount, line_total, delivered_quantity, serial_numbers)
            SELECT \(order), x.line_no, x.sku, x.description, x.quantity, x.unit_price, x.discount_percent, x.tax_amount, x.line_total,
                x.delivered_quantity, coalesce(x.serial_numbers, '{}')
            FROM jsonb_to_recordset(\(try sql.bind(json))::jsonb) AS x (line_no integer, sku text, description text, quantity numeric,
                unit_price numeric, discount_percent numeric, tax_amount numeric, line_total numeric, delivered_quantity numeric,
                serial_numbers text[])
            """)
        try await connection.query(sql.query, logger: logger)
    }

    /// True when the version was new to the history.
    @discardableResult
    private func record(history order: InboundOrder, of id: UUID, on connection: PostgresConnection) async throws -> Bool {
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(schema.table("order_status_history")) (order_id, version, status, status_at)
            VALUES (\(try sql.bind(id)), \(try sql.bind(order.version)), \(try sql.bind(order.status.rawValue)), \(try sql.bind(order.statusAt)))
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        return try await connection.query(sql.query, logger: logger).collect().count > 0
    }
}
