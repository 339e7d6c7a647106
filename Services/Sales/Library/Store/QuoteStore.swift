import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Quotes (commercial proposals): made from a deal's lines with their discounts and the products'
/// tax rates, numbered in one sequence per year (`Q-2026-00001`), then sent, accepted, rejected or
/// left to expire. A quote keeps its lines and sums as they were when it was made.
struct QuoteStore: ServiceStore {
    let service: ServiceDependencies
    let deals: DealStore

    var quotes: String { schema.table("quotes") }
    var document: String { "\(schema.quoted).quote_document(q)::text" }
    /// How long a quote is valid when the request does not say.
    static let defaultValidity = 30

    func get(_ id: UUID) async throws -> Document {
        try await client.document(
            document, from: quotes, as: "q", id: id, orThrow: SalesError.notFound("quote \(id.lowercased)"), logger: logger
        )
    }

    /// Oldest first; `deal_id` and `status` filter.
    func list(_ filter: QuoteFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("SELECT \(document), ARRAY[\(schema.quoted).ts(q.created_at), q.id::text] FROM \(quotes) q WHERE true")
        if let deal = filter.deal { sql.append(" AND q.deal_id = \(try sql.bind(deal))") }
        if let status = filter.status { sql.append(" AND q.status = \(try sql.bind(status.rawValue))") }
        try sql.appendPage(filter.page, in: .creation("q"))
        return try await client.page(sql.query, limit: filter.page.limit, logger: logger)
    }

    /// A draft quote of the deal's current lines.
    func create(for dealId: UUID, _ request: QuoteRequest) async throws -> Document {
        var check = FieldChecker()
        let notes = check.text(request.notes, "notes", maximum: 5000)
        if let text = request.validUntil {
            if let day = DealFields.calendarDate(text) {
                if day < Calendar.utc.startOfDay(for: Date()) { check.fail("valid_until", "must not be in the past") }
            } else {
                check.fail("valid_until", "must be a date such as 2026-12-31")
            }
        }
        try check.check(SalesError.invalid)
        return try await client.transaction(logger: logger) { connection in
            let locked = try await deals.lock(dealId, expectedVersion: nil, on: connection)
            guard locked.status != .lost else { throw Self.dealLost(dealId, doing: "quote it") }
            let id = UUID()
            var sql = SQLBuilder()
            let deal = try sql.bind(dealId)
            var validUntil = "current_date + \(Self.defaultValidity)"
            if let given = request.validUntil { validUntil = "\(try sql.bind(given))::date" }
            sql.append("""
                WITH number AS (
                    INSERT INTO \(schema.table("quote_numbers")) AS n (year, last) VALUES (extract(year FROM now() AT TIME ZONE 'UTC')::int, 1)
                    ON CONFLICT (year) DO UPDATE SET last = n.last + 1 RETURNING year, last),
                d AS (SELECT d.*, c.name AS contact_name, c.company AS contact_company, c.region, c.country
                    FROM \(deals.deals) d LEFT JOIN \(schema.table("contacts")) c ON c.id = d.contact_id WHERE d.id = \(deal)),
                l AS (
                    SELECT l.position, p.id AS product_id, p.code, p.name, p.unit, l.quantity, l.unit_price, l.discount_percent, p.tax_rate,
                        round(l.quantity * l.unit_price, 2) AS gross, \(schema.quoted).line_total(l.quantity, l.unit_price, l.discount_percent) AS net
                    FROM \(schema.table("deal_lines")) l JOIN \(schema.table("products")) p ON p.id = l.product_id WHERE l.deal_id = \(deal)),
                t AS (SELECT l.*, round(l.net * l.tax_rate / 100, 2) AS tax FROM l)
                INSERT INTO \(quotes) AS q (id, number, deal_id, currency, customer, lines, subtotal, discount, tax, total, taxes, valid_until, notes)
                SELECT \(try sql.bind(id)), 'Q-' || number.year || '-' || lpad(number.last::text, 5, '0'), d.id, d.currency,
                    jsonb_build_object('deal_title', d.title, 'contact_id', d.contact_id, 'account_id', d.account_id, 'name', d.contact_name,
                        'company', d.contact_company, 'region', d.region, 'country', d.country),
                    (SELECT jsonb_agg(jsonb_build_object('product_id', t.product_id, 'product_code', t.code, 'product_name', t.name,
                            'unit', t.unit, 'quantity', trim_scale(t.quantity),
                            'unit_price', jsonb_build_object('amount', \(money)(t.unit_price), 'currency', d.currency),
                            'discount_percent', trim_scale(t.discount_percent), 'tax_rate', trim_scale(t.tax_rate),
                            'net', jsonb_build_object('amount', \(money)(t.net), 'currency', d.currency),
                            'tax', jsonb_build_object('amount', \(money)(t.tax), 'currency', d.currency)) ORDER BY t.position) FROM t),
                    (SELECT sum(gross) FROM t), (SELECT sum(gross - net) FROM t), (SELECT sum(tax) FROM t), (SELECT sum(net + tax) FROM t),
                    (SELECT jsonb_agg(jsonb_build_object('rate', trim_scale(r.rate),
                            'base', jsonb_build_object('amount', \(money)(r.base), 'currency', d.currency),
                            'tax', jsonb_build_object('amount', \(money)(r.tax), 'currency', d.currency)) ORDER BY r.rate)
                        FROM (SELECT tax_rate AS rate, sum(net) AS base, sum(tax) AS tax FROM t GROUP BY tax_rate) r),
                    \(validUntil), \(try sql.bind(notes))
                FROM number, d WHERE EXISTS (SELECT FROM t)
                RETURNING \(document)
                """)
            guard let created = try await connection.document(sql.query, logger: logger) else {
                throw SalesError.conflict(.dealWithoutLines, "deal \(dealId.lowercased) has no lines; a quote is made of them (PUT /api/v1/deals/{id}/lines)")
            }
            try await outbox.append(try created.event(SalesEvents.quoteCreated, producer: "sales", aggregateId: id, version: 1), on: connection, logger: logger)
            return created
        }
    }

    func send(_ id: UUID, expectedVersion: Int64?) async throws -> Document {
        try await change(id, expectedVersion: expectedVersion, event: SalesEvents.quoteSent) { quote, connection, _ in
            guard quote.status == .draft else { throw Self.wrongStatus(quote, "sent", needs: "a draft") }
            guard !quote.lapsed else { throw Self.lapsed(quote) }
            try await requireDealNotLost(quote, doing: "send the quote", on: connection)
            return "status = 'sent', sent_at = \(DealStore.now)"
        }
    }

    /// Accepted; with `markDealWon` (the default) its deal is won in the same commit, if still open.
    func accept(_ id: UUID, markDealWon: Bool, expectedVersion: Int64?) async throws -> Document {
        try await change(id, expectedVersion: expectedVersion, event: SalesEvents.quoteAccepted) { quote, connection, _ in
            guard quote.status == .sent else { throw Self.wrongStatus(quote, "accepted", needs: "a sent quote") }
            guard !quote.lapsed else { throw Self.lapsed(quote) }
            try await requireDealNotLost(quote, doing: "accept the quote", on: connection)
            if markDealWon { _ = try await deals.winFromQuote(quote.dealId, comment: "quote \(quote.number) accepted", on: connection) }
            return "status = 'accepted', decided_at = \(DealStore.now)"
        }
    }

    func reject(_ id: UUID, reason: String?, expectedVersion: Int64?) async throws -> Document {
        var check = FieldChecker()
        let reason = check.text(reason, "reason", maximum: 2000)
        try check.check(SalesError.invalid)
        return try await change(id, expectedVersion: expectedVersion, event: SalesEvents.quoteRejected) { quote, _, sql in
            guard quote.status == .sent else { throw Self.wrongStatus(quote, "rejected", needs: "a sent quote") }
            return "status = 'rejected', decided_at = \(DealStore.now), reject_reason = \(try sql.bind(reason))"
        }
    }

    /// Sent quotes whose last valid day has passed become expired, each with its event.
    func expireLapsed() async throws -> Int {
        try await client.transaction(logger: logger) { connection in
            var sql = SQLBuilder("WITH expired AS (")
            sql.append("""
                UPDATE \(quotes) AS q SET status = 'expired', version = version + 1, updated_at = \(DealStore.now)
                WHERE q.status = 'sent' AND q.valid_until < current_date
                RETURNING q.id AS aggregate_id, q.version AS aggregate_version, \(schema.quoted).quote_document(q) AS data),
                events AS (
                """)
            try outbox.appendEvents(from: "expired", type: SalesEvents.quoteExpired, producer: "sales", into: &sql)
            sql.append(" RETURNING 1)")
            let notified = try outbox.notification(into: &sql)
            sql.append(" SELECT count(*)::text FROM events, \(notified)")
            return Int(try await connection.texts(sql.query, logger: logger).first ?? "0") ?? 0
        }
    }

    // MARK: Parts

    var money: String { "\(schema.quoted).money_text" }

    struct LockedQuote {
        var id: UUID
        var number: String
        var dealId: UUID
        var status: QuoteStatus
        var version: Int64
        /// Its last valid day has passed.
        var lapsed: Bool
        var validUntil: String
    }

    /// Locks the quote, checks the version when one is expected, applies the assignments `body`
    /// gives, bumps the version and appends `event`.
    private func change(
        _ id: UUID, expectedVersion: Int64?, event: String,
        _ body: @escaping @Sendable (LockedQuote, PostgresConnection, inout SQLBuilder) async throws -> String
    ) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            var read = SQLBuilder()
            read.append("""
                SELECT number, deal_id, status, version, valid_until < current_date, valid_until::text FROM \(quotes)
                WHERE id = \(try read.bind(id)) FOR UPDATE
                """)
            var found: LockedQuote?
            for try await (number, deal, status, version, lapsed, validUntil) in try await connection.query(read.query, logger: logger)
                .decode((String, UUID, String, Int64, Bool, String).self)
            {
                found = LockedQuote(
                    id: id, number: number, dealId: deal, status: QuoteStatus(rawValue: status) ?? .draft, version: version, lapsed: lapsed,
                    validUntil: validUntil
                )
            }
            guard let quote = found else { throw SalesError.notFound("quote \(id.lowercased)") }
            if let expectedVersion, expectedVersion != quote.version {
                throw SalesError.versionMismatch(expected: expectedVersion, current: quote.version)
            }
            var sql = SQLBuilder()
            let assignments = try await body(quote, connection, &sql)
            sql.append("""
                UPDATE \(quotes) AS q SET \(assignments), version = version + 1, updated_at = \(DealStore.now)
                WHERE q.id = \(try sql.bind(id)) RETURNING \(document)
                """)
            return try await connection.document(
                sql.query, causing: event, producer: "sales", aggregateId: id, version: quote.version + 1, outbox: outbox, logger: logger
            )
        }
    }

    private static func wrongStatus(_ quote: LockedQuote, _ becoming: String, needs: String) -> SalesError {
        SalesError.conflict(.quoteStatus, "quote \(quote.number) is \(quote.status.rawValue); only \(needs) can be \(becoming)")
    }

    /// A lost deal takes no quote, and no quote of it goes out or is accepted, until it is reopened:
    /// an accepted quote beside a lost deal would tell two stories. A deleted deal does not stop
    /// its quotes (their lines and sums are frozen in them).
    private func requireDealNotLost(_ quote: LockedQuote, doing action: String, on connection: PostgresConnection) async throws {
        do {
            let deal = try await deals.lock(quote.dealId, expectedVersion: nil, on: connection)
            guard deal.status != .lost else { throw Self.dealLost(quote.dealId, doing: action) }
        } catch SalesError.notFound {
            return
        }
    }

    private static func dealLost(_ dealId: UUID, doing action: String) -> SalesError {
        SalesError.conflict(.dealLost, "deal \(dealId.lowercased) is lost; reopen it (POST /api/v1/deals/{id}/reopen) before you \(action)")
    }

    private static func lapsed(_ quote: LockedQuote) -> SalesError {
        SalesError.conflict(.quoteExpired, "quote \(quote.number) was valid until \(quote.validUntil); make a new one")
    }
}

extension Calendar {
    /// The Gregorian calendar in UTC, whose days the API's dates name.
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}

enum QuoteStatus: String, CaseIterable, Sendable {
    case draft, sent, accepted, rejected, expired
}
