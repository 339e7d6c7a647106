import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Suspicious transactions: the rules (`alert_findings` in SQL, with the thresholds of
/// `alert_settings`) run on every order change in the transaction that applies it (in the
/// statement of the orders' events, `OrderWriter`); what they find about an order for the first
/// time is an open alert and an `erp.alert.raised` event. People acknowledge or dismiss alerts
/// with a comment.
struct AlertStore: ServiceStore {
    let service: ServiceDependencies

    var alerts: String { schema.table("alerts") }
    var document: String { "\(schema.quoted).alert_document(a)::text" }

    /// Appends to `sql` the statement that runs the rules on `orders` as they now stand and
    /// keeps what they find for the first time as open alerts, returning the new rows: a CTE of
    /// the statement that writes their events (`documentOf`).
    func appendRaise(orders: [UUID], into sql: inout SQLBuilder) throws {
        sql.append("""
            INSERT INTO \(alerts) AS a (id, rule, order_id, source, erp_customer_id, contact_id, account_id, score, reasons)
            SELECT \(schema.quoted).time_ordered_uuid(), f.rule, o.id, o.source, o.erp_customer_id, o.contact_id, o.account_id,
                f.score, f.reasons
            FROM \(schema.table("orders")) o CROSS JOIN \(schema.table("alert_settings")) s
            CROSS JOIN LATERAL \(schema.quoted).alert_findings(o, s) f
            WHERE o.id = ANY(\(try sql.bind(orders))::uuid[])
            ON CONFLICT (order_id, rule) DO NOTHING
            RETURNING a.*
            """)
    }

    /// The event document of a raised alert, `row` naming a row of `appendRaise`'s CTE.
    func documentOf(_ row: String) -> String {
        "\(schema.quoted).alert_document(ROW(\(row).*)::\(alerts))"
    }

    func list(_ filter: AlertFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("SELECT \(document), ARRAY[\(schema.quoted).ts(a.raised_at), a.id::text] FROM \(alerts) a WHERE true")
        if let status = filter.status { sql.append(" AND a.status = ANY(\(try sql.bind(status.map(\.rawValue))))") }
        if let rule = filter.rule { sql.append(" AND a.rule = \(try sql.bind(rule.rawValue))") }
        if let customer = filter.customer {
            let id = try sql.bind(customer)
            sql.append(" AND (a.contact_id = \(id) OR a.account_id = \(id))")
        }
        if let source = filter.source { sql.append(" AND a.source = \(try sql.bind(source))") }
        if let order = filter.order { sql.append(" AND a.order_id = \(try sql.bind(order))") }
        try sql.appendPage(filter.page, in: Keyset([("a.raised_at", "::timestamptz"), ("a.id", "::uuid")], descending: true))
        return try await client.page(sql.query, limit: filter.page.limit, logger: logger)
    }

    func get(_ id: UUID) async throws -> Document {
        try await client.document(document, from: alerts, as: "a", id: id, orThrow: ERPBridgeError.notFound("alert \(id.lowercased)"), logger: logger)
    }

    /// Acknowledges or dismisses an open alert; a decided one stays as it was decided.
    func decide(_ id: UUID, _ status: AlertStatus, _ decision: AlertDecision, by caller: String?) async throws -> Document {
        let comment = try decision.validated()
        return try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(alerts) a SET status = \(try sql.bind(status.rawValue)), comment = \(try sql.bind(comment)),
                    decided_by = \(try sql.bind(caller)), decided_at = now(), version = version + 1
                WHERE a.id = \(try sql.bind(id)) AND a.status = 'open'
                RETURNING \(document)
                """)
            if let decided = try await connection.document(sql.query, logger: logger) { return decided }
            let current = try await get(id)
            let state = (try? current.decode(DecidedAlert.self))?.status ?? "decided"
            throw ERPBridgeError.conflict(.alertDecided, "alert \(id.lowercased) is \(state) already")
        }
    }

    private struct DecidedAlert: Decodable { var status: String }

    func settings() async throws -> Document {
        try await client.document(
            PostgresQuery(unsafeSQL: "SELECT \(settingsDocument) FROM \(schema.table("alert_settings")) s"),
            orThrow: ERPBridgeError.notFound("alert settings"), logger: logger
        )
    }

    func updateSettings(_ patch: AlertSettingsPatch) async throws -> Document {
        let patch = try patch.validated()
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(schema.table("alert_settings")) s SET
                orders_per_day = coalesce(\(try sql.bind(patch.ordersPerDay))::int, orders_per_day),
                amount_z_score = coalesce(\(try sql.bind(patch.amountZScore))::numeric, amount_z_score),
                amount_history_minimum = coalesce(\(try sql.bind(patch.amountHistoryMinimum))::int, amount_history_minimum),
                dunning_share = coalesce(\(try sql.bind(patch.dunningShare))::numeric, dunning_share),
                dunning_minimum = coalesce(\(try sql.bind(patch.dunningMinimum))::int, dunning_minimum),
                updated_at = now()
            RETURNING \(settingsDocument)
            """)
        let query = sql.query
        return try await client.transaction(logger: logger) { try await $0.document(returnedBy: query, logger: logger) }
    }

    private var settingsDocument: String {
        """
        jsonb_build_object('orders_per_day', s.orders_per_day, 'amount_z_score', s.amount_z_score::float8,
            'amount_history_minimum', s.amount_history_minimum, 'dunning_share', s.dunning_share::float8,
            'dunning_minimum', s.dunning_minimum, 'updated_at', \(schema.quoted).ts(s.updated_at))::text
        """
    }
}
