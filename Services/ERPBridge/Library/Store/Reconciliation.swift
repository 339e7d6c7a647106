import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Compares a source's control totals for a day with the orders the CRM holds for it, keeps the
/// report and sends it back (`<source>.reconciliation`). Equal digests mean agreement without a
/// comparison; otherwise every difference is listed: an order missing on either side, another
/// version, another status, another gross.
struct Reconciliation: ServiceStore {
    let service: ServiceDependencies

    static let messageType = "erp.reconciliation"

    func answer(_ control: ControlTotals, source: String, correlation: UUID, on connection: PostgresConnection) async throws {
        let lines = String(decoding: try EventCoding.encoder.encode(control.orders), as: UTF8.self)
        var sql = SQLBuilder()
        let sourceValue = try sql.bind(source)
        let day = try sql.bind(control.date)
        let erpDigest = try sql.bind(control.digest)
        let id = try sql.bind(UUID.timeOrdered())
        sql.append("""
            WITH erp AS (
                SELECT x.order_number, x.version, x.status, x.gross
                FROM jsonb_to_recordset(\(try sql.bind(lines))::jsonb) AS x (order_number text, version bigint, status text, gross numeric)
            ), crm AS (
                SELECT o.order_number, o.version, o.status, o.gross FROM \(schema.table("orders")) o
                WHERE o.source = \(sourceValue) AND (o.ordered_at AT TIME ZONE 'UTC')::date = \(day)::date
            ), held AS (
                SELECT count(*)::int AS orders, encode(sha256(convert_to(coalesce(string_agg(
                    \(schema.quoted).control_line(order_number, version, status, gross), E'\\n'
                    ORDER BY \(schema.quoted).control_line(order_number, version, status, gross) COLLATE "C"), ''), 'UTF8')), 'hex') AS digest
                FROM crm
            ), compared AS (
                SELECT coalesce(e.order_number, c.order_number) AS order_number,
                    CASE WHEN c.order_number IS NULL THEN 'missing_in_crm' WHEN e.order_number IS NULL THEN 'missing_in_erp'
                        WHEN e.version <> c.version THEN 'other_version' WHEN e.status <> c.status THEN 'other_status'
                        WHEN e.gross <> c.gross THEN 'other_gross' END AS kind,
                    e.version AS erp_version, c.version AS crm_version, e.status AS erp_status, c.status AS crm_status,
                    \(schema.quoted).money_text(e.gross) AS erp_gross, \(schema.quoted).money_text(c.gross) AS crm_gross
                FROM erp e FULL JOIN crm c ON c.order_number = e.order_number
                WHERE (SELECT digest FROM held) <> \(erpDigest)
            ), report AS (
                INSERT INTO \(schema.table("reconciliations")) (id, source, day, erp_orders, crm_orders, erp_digest, crm_digest, differences)
                SELECT \(id), \(sourceValue), \(day)::date, (SELECT count(*) FROM erp), held.orders, \(erpDigest), held.digest,
                    (SELECT coalesce(jsonb_agg(to_jsonb(d) ORDER BY d.order_number), '[]') FROM compared d WHERE d.kind IS NOT NULL)
                FROM held
                RETURNING *
            )
            SELECT \(schema.quoted).reconciliation_document(ROW(r.*)::\(schema.table("reconciliations")))::text
            FROM report r
            """)
        let report = try await connection.document(returnedBy: sql.query, logger: logger)
        try await outbox.append(
            [
                OutboundMessage(
                    exchange: CRMTopology.erpOutboundExchange, routingKey: "\(source).reconciliation", type: Self.messageType,
                    body: report.text, correlationId: correlation
                )
            ],
            on: connection, logger: logger
        )
    }

    /// The last report of a source's day, or nil when it sent no control totals for it.
    func last(source: String, day: String) async throws -> String? {
        var sql = SQLBuilder()
        sql.append("""
            SELECT \(schema.quoted).reconciliation_document(r)::text
            FROM \(schema.table("reconciliations")) r
            WHERE r.source = \(try sql.bind(source)) AND r.day = \(try sql.bind(day))::date ORDER BY r.received_at DESC LIMIT 1
            """)
        return try await client.texts(sql.query, logger: logger).first
    }
}
