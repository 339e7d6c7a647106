import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// The sales reports, each one statement computed where the deals are. Amounts are summed per
/// currency and never converted; rates are fractions rounded to four places.
struct ReportStore: ServiceStore {
    let service: ServiceDependencies

    var deals: String { schema.table("deals") }
    var stages: String { schema.table("stages") }
    var money: String { "\(schema.quoted).money_text" }

    /// A report's range and filters: `from` (inclusive) and `to` (exclusive), the pipeline and
    /// the owner of the deals.
    struct Range: Sendable {
        var from: Date?
        var to: Date?
        var pipeline: UUID?
        var owner: String?

        static func day(_ instant: Date) -> String {
            let parts = Calendar.utc.dateComponents([.year, .month, .day], from: instant)
            return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        }

        /// Both ends, where given, are midnights (UTC): the range is whole days.
        var wholeDays: Bool {
            [from, to].allSatisfy { $0.map { Calendar.utc.startOfDay(for: $0) == $0 } ?? true }
        }

        /// ` AND <column> >= from AND <column> < to` plus the pipeline and owner of the deal `d`.
        /// A `date` column is compared with the ends' days (UTC).
        func append(to sql: inout SQLBuilder, column: String, days: Bool = false) throws {
            func bound(_ instant: Date) throws -> String {
                days ? "\(try sql.bind(Self.day(instant)))::date" : try sql.bind(instant)
            }
            if let from { sql.append(" AND \(column) >= \(try bound(from))") }
            if let to { sql.append(" AND \(column) < \(try bound(to))") }
            if let pipeline { sql.append(" AND d.pipeline_id = \(try sql.bind(pipeline))") }
            if let owner { sql.append(" AND d.owner = \(try sql.bind(owner))") }
        }
    }

    /// Per active stage of a pipeline (the default one unless `pipeline_id` names another), for
    /// the deals created in the range: how many reached it (entered it or a later stage, or were
    /// won), the open deals in it now, and the share of those that reached it that went on to the
    /// next stage (after the last: to won). A range of whole days without an owner is added up
    /// from `funnel_counts`; an owner's, or one with times of day, from the deals themselves.
    func funnel(_ range: Range) async throws -> String {
        var range = range
        var sql = SQLBuilder()
        let pipeline: String
        if let id = range.pipeline {
            pipeline = try sql.bind(id)
            range.pipeline = nil
        } else {
            pipeline = "(SELECT id FROM \(schema.table("pipelines")) WHERE is_default)"
        }
        // b: the deals as (stages visited, status, current stage, currency) with their count and amount.
        if range.owner == nil && range.wholeDays {
            sql.append("""
                WITH b AS (
                    SELECT d.visited, d.status, d.stage_id, d.currency, sum(d.deals) AS n, sum(d.amount) AS amount
                    FROM \(schema.table("funnel_counts")) d WHERE d.pipeline_id = \(pipeline) AND d.deals <> 0
                """)
            try range.append(to: &sql, column: "d.created_on", days: true)
        } else {
            sql.append("""
                WITH b AS (
                    SELECT d.visited, d.status, d.stage_id, d.currency, count(*) AS n, sum(d.amount) AS amount
                    FROM \(deals) d WHERE d.deleted_at IS NULL AND d.pipeline_id = \(pipeline)
                """)
            try range.append(to: &sql, column: "d.created_at")
        }
        sql.append("""
                GROUP BY 1, 2, 3, 4),
            st AS (SELECT id, name, position FROM \(stages) WHERE pipeline_id = \(pipeline) AND retired_at IS NULL),
            reach AS (SELECT b.status, b.n, (SELECT max(st.position) FROM st WHERE st.id = ANY(b.visited)) AS top FROM b),
            won AS (SELECT coalesce(sum(n), 0) AS n FROM b WHERE b.status = 'won'),
            rows AS (
                SELECT st.id, st.name, st.position,
                    (SELECT coalesce(sum(r.n), 0) FROM reach r WHERE r.top >= st.position OR r.status = 'won') AS reached,
                    (SELECT coalesce(sum(b.n), 0) FROM b WHERE b.stage_id = st.id AND b.status = 'open') AS open_count,
                    (SELECT coalesce(jsonb_agg(jsonb_build_object('amount', \(money)(x.total), 'currency', x.currency) ORDER BY x.currency), '[]')
                        FROM (SELECT b.currency, sum(b.amount) AS total FROM b WHERE b.stage_id = st.id AND b.status = 'open'
                            GROUP BY b.currency) x) AS open_amounts
                FROM st),
            ordered AS (SELECT rows.*, coalesce(lead(reached) OVER (ORDER BY position), (SELECT n FROM won)) AS next FROM rows)
            SELECT jsonb_build_object(
                'pipeline_id', \(pipeline),
                'deals', (SELECT coalesce(sum(n), 0) FROM b),
                'open', (SELECT coalesce(sum(n), 0) FROM b WHERE b.status = 'open'),
                'won', (SELECT n FROM won),
                'lost', (SELECT coalesce(sum(n), 0) FROM b WHERE b.status = 'lost'),
                'stages', coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'stage_id', id, 'name', name, 'position', position, 'reached', reached,
                        'open', jsonb_build_object('count', open_count, 'amounts', open_amounts),
                        'conversion_to_next', CASE WHEN reached = 0 THEN NULL ELSE round(next::numeric / reached, 4) END)
                    ORDER BY position) FROM ordered), '[]'))::text
            """)
        return try await answer(sql)
    }

    /// Open deals by month of their expected close, owner and currency: their amount, and the
    /// amount weighted by each deal's probability (its own, else its stage's). The range is of
    /// days (UTC) of the expected close; without one, deals with no expected close date form the
    /// rows whose `month` is null. Added up from
    /// `forecast_counts`, which hold the open deals by day, owner, currency, stage and own probability.
    func forecast(_ range: Range) async throws -> String {
        var sql = SQLBuilder()
        sql.append("""
            WITH g AS (
                SELECT to_char(d.expected_on, 'YYYY-MM') AS month, d.owner, d.currency, sum(d.deals) AS n,
                    sum(d.amount) AS total, sum(d.amount * coalesce(d.probability, s.probability) / 100.0) AS weighted
                FROM \(schema.table("forecast_counts")) d JOIN \(stages) s ON s.id = d.stage_id
                WHERE d.deals <> 0
            """)
        try range.append(to: &sql, column: "d.expected_on", days: true)
        sql.append("""
                GROUP BY 1, 2, 3)
            SELECT jsonb_build_object(
                'rows', coalesce((SELECT jsonb_agg(jsonb_build_object('month', month, 'owner', owner, 'deals', n,
                        'amount', jsonb_build_object('amount', \(money)(total), 'currency', currency),
                        'weighted', jsonb_build_object('amount', \(money)(round(weighted, 2)), 'currency', currency))
                    ORDER BY month NULLS LAST, owner NULLS FIRST, currency) FROM g), '[]'),
                'totals', coalesce((SELECT jsonb_agg(jsonb_build_object('currency', currency, 'deals', n,
                        'amount', \(money)(total), 'weighted', \(money)(round(weighted, 2))) ORDER BY currency)
                    FROM (SELECT currency, sum(n) AS n, sum(total) AS total, sum(weighted) AS weighted FROM g GROUP BY currency) t), '[]'))::text
            """)
        return try await answer(sql)
    }

    /// The open deals of a pipeline (the default one unless the range names another) per active
    /// stage now, everyone's or the range's owner's: how many and their amounts per currency, in
    /// the funnel's `open` shape. Added up from `forecast_counts`, which hold every open deal by
    /// stage and owner, so a board at a million deals reads a few thousand rows.
    func openDeals(_ range: Range) async throws -> String {
        var sql = SQLBuilder()
        let pipeline = try range.pipeline.map { try sql.bind($0) } ?? "(SELECT id FROM \(schema.table("pipelines")) WHERE is_default)"
        sql.append("""
            WITH c AS (
                SELECT d.stage_id, d.currency, sum(d.deals) AS n, sum(d.amount) AS total
                FROM \(schema.table("forecast_counts")) d WHERE d.pipeline_id = \(pipeline) AND d.deals <> 0
            """)
        if let owner = range.owner { sql.append(" AND d.owner = \(try sql.bind(owner))") }
        sql.append("""
                GROUP BY 1, 2)
            SELECT jsonb_build_object('pipeline_id', \(pipeline),
                'stages', coalesce((SELECT jsonb_agg(jsonb_build_object('stage_id', s.id, 'name', s.name, 'position', s.position,
                        'open', jsonb_build_object('count', (SELECT coalesce(sum(c.n), 0) FROM c WHERE c.stage_id = s.id),
                            'amounts', (SELECT coalesce(jsonb_agg(jsonb_build_object('amount', \(money)(c.total), 'currency', c.currency)
                                ORDER BY c.currency), '[]') FROM c WHERE c.stage_id = s.id)))
                    ORDER BY s.position) FROM \(stages) s WHERE s.pipeline_id = \(pipeline) AND s.retired_at IS NULL), '[]'))::text
            """)
        return try await answer(sql)
    }

    enum WinRateKey: String, CaseIterable {
        case owner, region, country, product
        case leadSource = "lead_source"
    }

    /// For the deals closed in the range, grouped `by` owner, by the contact's region, country or
    /// lead source (as the replica holds them), or by product (a deal counts for each product of
    /// its lines, with that product's part of its amount; deals without lines are left out): won,
    /// lost, the win rate, the average sales cycle (creation to win, in days) and the won amounts.
    /// By owner over whole days it is added up from `closed_counts`; the rest from the deals.
    func winRate(_ range: Range, by key: WinRateKey) async throws -> String {
        var sql = SQLBuilder()
        let cycle = "extract(epoch FROM d.closed_at - d.created_at)"
        switch key {
        case .owner where range.wholeDays:
            sql.append("""
                WITH b AS (
                    SELECT d.owner AS key, d.currency, d.status, d.deals AS n, d.cycle_seconds, d.amount
                    FROM \(schema.table("closed_counts")) d WHERE d.deals <> 0
                """)
            try range.append(to: &sql, column: "d.closed_on", days: true)
            sql.append("),")
        case .product:
            sql.append("""
                WITH b AS (
                    SELECT p.code AS key, d.currency, d.status, 1 AS n, \(cycle) AS cycle_seconds,
                        sum(\(schema.quoted).line_total(l.quantity, l.unit_price, l.discount_percent)) AS amount
                    FROM \(deals) d JOIN \(schema.table("deal_lines")) l ON l.deal_id = d.id JOIN \(schema.table("products")) p ON p.id = l.product_id
                    WHERE d.status IN ('won', 'lost') AND d.deleted_at IS NULL
                """)
            try range.append(to: &sql, column: "d.closed_at")
            sql.append(" GROUP BY d.id, p.code),")
        default:
            let column = switch key {
            case .owner: "d.owner"
            case .region: "c.region"
            case .country: "c.country"
            default: "c.lead_source"
            }
            sql.append("""
                WITH b AS (
                    SELECT \(column) AS key, d.currency, d.status, 1 AS n, \(cycle) AS cycle_seconds, d.amount
                    FROM \(deals) d LEFT JOIN \(schema.table("contacts")) c ON c.id = d.contact_id
                    WHERE d.status IN ('won', 'lost') AND d.deleted_at IS NULL
                """)
            try range.append(to: &sql, column: "d.closed_at")
            sql.append("),")
        }
        sql.append("""
            g AS (
                SELECT key, currency, coalesce(sum(n) FILTER (WHERE status = 'won'), 0) AS won,
                    coalesce(sum(n) FILTER (WHERE status = 'lost'), 0) AS lost,
                    sum(cycle_seconds) FILTER (WHERE status = 'won') AS cycle_seconds, sum(amount) FILTER (WHERE status = 'won') AS won_amount
                FROM b GROUP BY 1, 2),
            k AS (
                SELECT key, sum(won) AS won, sum(lost) AS lost, sum(cycle_seconds) AS cycle_seconds,
                    jsonb_agg(jsonb_build_object('amount', \(money)(won_amount), 'currency', currency) ORDER BY currency)
                        FILTER (WHERE won > 0) AS amounts
                FROM g GROUP BY key)
            SELECT jsonb_build_object('by', \(try sql.bind(key.rawValue))::text,
                'rows', coalesce((SELECT jsonb_agg(jsonb_build_object('key', key, 'won', won, 'lost', lost,
                        'win_rate', round(won / (won + lost), 4),
                        'average_cycle_days', CASE WHEN won > 0 THEN round(cycle_seconds / 86400 / won, 2) END,
                        'won_amounts', coalesce(amounts, '[]'))
                    ORDER BY key NULLS LAST) FROM k), '[]'))::text
            """)
        return try await answer(sql)
    }

    /// The deals lost in the range by reason: how many, their share of the losses, their amounts.
    /// Over whole days without an owner it is added up from `lost_counts`; else from the deals.
    func lostReasons(_ range: Range) async throws -> String {
        var sql = SQLBuilder()
        if range.owner == nil && range.wholeDays {
            sql.append("""
                WITH g AS (
                    SELECT d.lost_reason AS code, d.currency, sum(d.deals) AS n, sum(d.amount) AS total
                    FROM \(schema.table("lost_counts")) d WHERE d.deals <> 0
                """)
            try range.append(to: &sql, column: "d.closed_on", days: true)
        } else {
            sql.append("""
                WITH g AS (
                    SELECT d.lost_reason AS code, d.currency, count(*) AS n, sum(d.amount) AS total
                    FROM \(deals) d WHERE d.status = 'lost' AND d.deleted_at IS NULL
                """)
            try range.append(to: &sql, column: "d.closed_at")
        }
        sql.append("""
                GROUP BY 1, 2),
            r AS (
                SELECT g.code, l.label, sum(g.n) AS n,
                    jsonb_agg(jsonb_build_object('amount', \(money)(g.total), 'currency', g.currency) ORDER BY g.currency) AS amounts
                FROM g LEFT JOIN \(schema.table("lost_reasons")) l ON l.code = g.code GROUP BY g.code, l.label),
            total AS (SELECT coalesce(sum(n), 0) AS n FROM r)
            SELECT jsonb_build_object('lost', (SELECT n FROM total),
                'reasons', coalesce((SELECT jsonb_agg(jsonb_build_object('reason', code, 'label', label, 'deals', n,
                        'share', round(n / (SELECT n FROM total), 4), 'amounts', amounts)
                    ORDER BY n DESC, code) FROM r), '[]'))::text
            """)
        return try await answer(sql)
    }

    /// The report's one row: its JSON text.
    private func answer(_ sql: SQLBuilder) async throws -> String {
        try await client.texts(sql.query, logger: logger)[0]
    }
}
