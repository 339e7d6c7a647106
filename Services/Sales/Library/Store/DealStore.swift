import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import StaffReplica
import Storage

/// Deals: each write commits with its event in the outbox, and every stay in a stage is kept.
struct DealStore: ServiceStore {
    let service: ServiceDependencies
    let replica: ContactReplica
    let staff: StaffReplica

    var deals: String { schema.table("deals") }
    var stages: String { schema.table("stages") }
    var history: String { schema.table("deal_stage_history") }
    var document: String { "\(schema.quoted).deal_document(d)::text" }
    /// The statement time to the millisecond, as every timestamp of the API is written.
    static let now = "date_trunc('milliseconds', now())"

    // MARK: Reads

    func get(_ id: UUID) async throws -> Document {
        try await client.document(
            document, from: deals, as: "d", id: id, live: true, orThrow: SalesError.notFound("deal \(id.lowercased)"), logger: logger
        )
    }

    /// Oldest first, keyset-paged by creation.
    func list(_ filter: DealFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        // deal_json with the stage joined, not deal_document: the planner inlines it, where
        // deal_document's body is planned for each statement and started for every deal; only the
        // lines stay a call per deal (35 µs a deal instead of 87).
        sql.append("""
            SELECT \(schema.quoted).deal_json(d, st.name, st.probability, \(schema.quoted).deal_lines_json(d))::text,
                ARRAY[\(schema.quoted).ts(d.created_at), d.id::text]
            FROM \(deals) d JOIN \(stages) st ON st.id = d.stage_id WHERE d.deleted_at IS NULL
            """)
        if let pipeline = filter.pipeline { sql.append(" AND d.pipeline_id = \(try sql.bind(pipeline))") }
        if let stage = filter.stage { sql.append(" AND d.stage_id = \(try sql.bind(stage))") }
        if let status = filter.status { sql.append(" AND d.status = \(try sql.bind(status.rawValue))") }
        if let owner = filter.owner { sql.append(" AND d.owner = \(try sql.bind(owner))") }
        if let contact = filter.contact { sql.append(" AND d.contact_id = \(try sql.bind(contact))") }
        if let account = filter.account { sql.append(" AND d.account_id = \(try sql.bind(account))") }
        if let updatedSince = filter.updatedSince { sql.append(" AND d.updated_at >= \(try sql.bind(updatedSince))") }
        if let search = filter.search { sql.append(" AND lower(d.title) LIKE \(try sql.bind(containsPattern(search.lowercased())))") }
        try sql.appendPage(filter.page, in: .creation("d"))
        return try await client.page(sql.query, limit: filter.page.limit, logger: logger)
    }

    /// Every stay of the deal in a stage, oldest first; the current one has no `exited_at`.
    func stageHistory(_ id: UUID) async throws -> RawPage {
        _ = try await get(id)
        var sql = SQLBuilder()
        sql.append("""
            SELECT jsonb_build_object('stage_id', h.stage_id, 'stage_name', s.name, 'pipeline_id', s.pipeline_id,
                'entered_at', \(schema.quoted).ts(h.entered_at), 'exited_at', \(schema.quoted).ts(h.exited_at),
                'seconds', floor(extract(epoch FROM coalesce(h.exited_at, now()) - h.entered_at))::bigint)::text
            FROM \(history) h JOIN \(stages) s ON s.id = h.stage_id
            WHERE h.deal_id = \(try sql.bind(id)) ORDER BY h.entered_at, h.id
            """)
        return try await client.unpaged(sql.query, logger: logger)
    }

    // MARK: Writes

    func create(_ input: DealFields) async throws -> Document {
        let valid = try input.validated()
        return try await client.transaction(logger: logger) { connection in
            var fields = valid
            fields.owner = try await staff.owner(fields.owner, on: connection)
            return try await insert(fields, on: connection)
        }
    }

    /// A new deal of valid fields, with its first stay and its event, in the caller's transaction.
    func insert(_ fields: DealFields, on connection: PostgresConnection) async throws -> Document {
        let (pipelineId, stageId) = try await placement(pipeline: fields.pipelineId, stage: fields.stageId, on: connection)
        let contactId = try await replica.current(fields.contactId, field: "contact_id", on: connection)
        let id = UUID()
        var sql = SQLBuilder()
        let stagePlaceholder = try sql.bind(stageId)
        var columns = try Self.columns(fields, contactId: contactId, into: &sql)
            + [("id", try sql.bind(id)), ("pipeline_id", try sql.bind(pipelineId)), ("stage_id", stagePlaceholder),
               ("visited", "ARRAY[\(stagePlaceholder)]::uuid[]")]
        if let createdAt = fields.createdAt {
            // A deal recorded after the fact has been in its stage since then.
            let at = try sql.bind(createdAt) + "::timestamptz"
            columns += [("created_at", at), ("stage_entered_at", at)]
        }
        sql.append("""
            WITH d AS (
                INSERT INTO \(deals) AS d (\(columns.map(\.0).joined(separator: ", "))) VALUES (\(columns.map(\.1).joined(separator: ", ")))
                RETURNING d.id, d.stage_id, d.stage_entered_at, \(document) AS document),
            stay AS (INSERT INTO \(history) (deal_id, stage_id, entered_at) SELECT id, stage_id, stage_entered_at FROM d)
            SELECT document FROM d
            """)
        return try await connection.document(
            sql.query, causing: SalesEvents.dealCreated, producer: "sales", aggregateId: id, version: 1, outbox: outbox, logger: logger
        )
    }

    /// A JSON merge patch of the deal's own fields; its stage and outcome have actions of their own.
    func update(_ id: UUID, patch: JSONValue, expectedVersion: Int64) async throws -> Document {
        guard case let .object(members) = patch else { throw SalesError.malformed("the body must be a JSON object (a merge patch)") }
        var check = FieldChecker()
        for name in members.keys.sorted() {
            if let instead = DealFields.notPatchable[name] { check.fail(name, "cannot be patched: \(instead)") }
        }
        try check.check(SalesError.invalid)
        return try await client.transaction(logger: logger) { connection in
            let deal = try await lock(id, expectedVersion: expectedVersion, on: connection)
            var read = SQLBuilder()
            read.append("SELECT \(Self.writableFields)::text FROM \(deals) d WHERE d.id = \(try read.bind(id))")
            let current = try await connection.document(returnedBy: read.query, logger: logger)
            var fields = try Document.writableFields(DealFields.self, of: current, patchedWith: patch, invalid: SalesError.invalid).validated()
            fields.owner = try await staff.owner(patched: fields.owner, stored: current, on: connection)
            if members["amount"] != nil, try await hasLines(id, on: connection) {
                throw SalesError.invalid("amount", "comes from the deal's lines; change them with PUT /api/v1/deals/{id}/lines")
            }
            // The stored contact may have been deleted since; only a contact the patch names is checked.
            let contactId = members["contact_id"] == nil
                ? fields.contactId : try await replica.current(fields.contactId, field: "contact_id", on: connection)
            var sql = SQLBuilder()
            let columns = try Self.columns(fields, contactId: contactId, into: &sql)
            sql.append("""
                UPDATE \(deals) AS d SET \(columns.map { "\($0.0) = \($0.1)" }.joined(separator: ", ")),
                    version = version + 1, updated_at = \(Self.now)
                WHERE d.id = \(try sql.bind(id)) RETURNING \(document)
                """)
            return try await connection.document(
                sql.query, causing: SalesEvents.dealUpdated, producer: "sales", aggregateId: id, version: deal.version + 1, outbox: outbox, logger: logger
            )
        }
    }

    /// Moves an open deal to another active stage (of its pipeline or another one).
    func move(_ id: UUID, to stageId: UUID?, expectedVersion: Int64) async throws -> Document {
        guard let stageId else { throw SalesError.invalid("stage_id", "is required") }
        return try await client.transaction(logger: logger) { connection in
            let deal = try await lock(id, expectedVersion: expectedVersion, on: connection)
            guard deal.status == .open else { throw Self.closed(deal, doing: "move it") }
            let (pipelineId, _) = try await placement(pipeline: nil, stage: stageId, on: connection)
            if deal.stageId == stageId {
                var read = SQLBuilder()
                read.append("SELECT \(document) FROM \(deals) d WHERE d.id = \(try read.bind(id))")
                return try await connection.document(returnedBy: read.query, logger: logger)
            }
            try await closeStay(of: id, on: connection)
            let moved = try await enter(id, stageId: stageId, pipelineId: pipelineId, set: [], on: connection)
            var event = try moved.event(SalesEvents.dealStageChanged, producer: "sales", aggregateId: id, version: deal.version + 1)
            if case var .object(members) = event.data {
                members["previous_stage_id"] = .string(deal.stageId.lowercased)
                event.data = .object(members)
            }
            try await outbox.append(event, on: connection, logger: logger)
            return moved
        }
    }

    /// Won, with an optional comment, now or at `closedAt` (see `close`).
    func win(_ id: UUID, comment: String?, closedAt: String?, expectedVersion: Int64) async throws -> Document {
        var check = FieldChecker()
        let comment = check.text(comment, "comment", maximum: 2000)
        let at = closedAt.flatMap { DealFields.pastTimestamp($0, "closed_at", &check) }
        try check.check(SalesError.invalid)
        return try await close(id, expectedVersion: expectedVersion, status: .won, reason: nil, comment: comment, at: at, event: SalesEvents.dealWon)
    }

    /// Lost, with a reason of the catalog (an active one) and an optional comment, now or at `closedAt`.
    func lose(_ id: UUID, reason: String?, comment: String?, closedAt: String?, expectedVersion: Int64) async throws -> Document {
        var check = FieldChecker()
        let comment = check.text(comment, "comment", maximum: 2000)
        let reason = check.text(reason, "reason", required: true, maximum: 50)
        let at = closedAt.flatMap { DealFields.pastTimestamp($0, "closed_at", &check) }
        try check.check(SalesError.invalid)
        return try await close(id, expectedVersion: expectedVersion, status: .lost, reason: reason, comment: comment, at: at, event: SalesEvents.dealLost)
    }

    /// A won or lost deal open again, in its last stage or in `stageId`.
    func reopen(_ id: UUID, in stageId: UUID?, expectedVersion: Int64) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            let deal = try await lock(id, expectedVersion: expectedVersion, on: connection)
            guard deal.status != .open else {
                throw SalesError.conflict(.dealOpen, "deal \(id.lowercased) is open; only a won or lost deal is reopened")
            }
            let target = stageId ?? deal.stageId
            let pipelineId: UUID
            do {
                (pipelineId, _) = try await placement(pipeline: nil, stage: target, on: connection)
            } catch SalesError.invalid where stageId == nil {
                throw SalesError.conflict(
                    .stageRetired, "the deal's stage \(target.lowercased) has been retired; reopen it with a stage_id of an active stage"
                )
            }
            let reopened = try await enter(
                id, stageId: target, pipelineId: pipelineId,
                set: [("status", "'open'"), ("closed_at", "NULL"), ("lost_reason", "NULL"), ("close_comment", "NULL")], on: connection
            )
            try await outbox.append(
                try reopened.event(SalesEvents.dealReopened, producer: "sales", aggregateId: id, version: deal.version + 1),
                on: connection, logger: logger
            )
            return reopened
        }
    }

    func delete(_ id: UUID, expectedVersion: Int64?) async throws {
        try await client.transaction(logger: logger) { connection in
            let deal = try await lock(id, expectedVersion: expectedVersion, on: connection)
            try await closeStay(of: id, on: connection)
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(deals) AS d SET deleted_at = \(Self.now), updated_at = \(Self.now), version = version + 1
                WHERE d.id = \(try sql.bind(id)) RETURNING \(document)
                """)
            try await connection.document(
                sql.query, causing: SalesEvents.dealDeleted, producer: "sales", aggregateId: id, version: deal.version + 1, outbox: outbox, logger: logger
            )
        }
    }

    /// Replaces the lines of an open deal. Each line's price is the one given, else the product's
    /// in the deal's price list, else its base price when that is in the deal's currency. A deal
    /// with lines takes its amount from them; with none, it keeps the amount it has.
    func setLines(_ id: UUID, _ input: DealLinesInput, expectedVersion: Int64) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            let deal = try await lock(id, expectedVersion: expectedVersion, on: connection)
            guard deal.status == .open else { throw Self.closed(deal, doing: "change its lines") }
            var read = SQLBuilder()
            read.append("SELECT d.price_list_id, d.currency FROM \(deals) d WHERE d.id = \(try read.bind(id))")
            var current: (UUID?, String) = (nil, "EUR")
            for try await row in try await connection.query(read.query, logger: logger).decode((UUID?, String).self) { current = row }
            let priceList = input.priceListId ?? current.0
            var currency = input.currency?.uppercased() ?? current.1
            if currency.wholeMatch(of: /[A-Z]{3}/) == nil {
                throw SalesError.invalid("currency", "must be a three-letter ISO 4217 code such as EUR")
            }
            if let priceList {
                var list = SQLBuilder()
                list.append("SELECT currency FROM \(schema.table("price_lists")) WHERE id = \(try list.bind(priceList))")
                guard let listCurrency = try await connection.texts(list.query, logger: logger).first else {
                    throw SalesError.invalid("price_list_id", "no price list \(priceList.lowercased) exists")
                }
                if let asked = input.currency, asked.uppercased() != listCurrency {
                    throw SalesError.invalid("currency", "the price list's prices are in \(listCurrency)")
                }
                currency = listCurrency
            }
            let lines = try await priced(input.lines ?? [], currency: currency, priceList: priceList, on: connection)
            if lines.isEmpty && currency != current.1 {
                throw SalesError.invalid(
                    "currency", "a deal without lines keeps its amount's currency (\(current.1)); change the amount with PATCH"
                )
            }
            var sql = SQLBuilder()
            sql.append("DELETE FROM \(schema.table("deal_lines")) WHERE deal_id = \(try sql.bind(id))")
            try await connection.query(sql.query, logger: logger)
            if !lines.isEmpty {
                var insert = SQLBuilder()
                insert.append("""
                    INSERT INTO \(schema.table("deal_lines")) (deal_id, position, product_id, quantity, unit_price, price_overridden, discount_percent)
                    SELECT \(try insert.bind(id)), t.position, t.product, t.quantity::numeric, t.price::numeric, t.overridden, t.discount::numeric
                    FROM unnest(\(try insert.bind(lines.map(\.product)))::uuid[], \(try insert.bind(lines.map(\.quantity)))::text[],
                        \(try insert.bind(lines.map(\.price)))::text[], \(try insert.bind(lines.map(\.overridden)))::bool[],
                        \(try insert.bind(lines.map(\.discount)))::text[]) WITH ORDINALITY AS t (product, quantity, price, overridden, discount, position)
                    """)
                try await connection.query(insert.query, logger: logger)
            }
            var update = SQLBuilder()
            update.append("""
                UPDATE \(deals) AS d SET price_list_id = \(try update.bind(priceList)), currency = \(try update.bind(currency)),
                    amount = coalesce((SELECT sum(\(schema.quoted).line_total(l.quantity, l.unit_price, l.discount_percent))
                        FROM \(schema.table("deal_lines")) l WHERE l.deal_id = d.id), d.amount),
                    version = version + 1, updated_at = \(Self.now)
                WHERE d.id = \(try update.bind(id)) RETURNING \(document)
                """)
            return try await connection.document(
                update.query, causing: SalesEvents.dealUpdated, producer: "sales", aggregateId: id, version: deal.version + 1, outbox: outbox, logger: logger
            )
        }
    }

    struct PricedLine {
        var product: UUID
        var quantity: String
        var price: String
        var overridden: Bool
        var discount: String
    }

    /// Checks the lines and finds each one's price; every problem is named by its line.
    private func priced(
        _ lines: [DealLinesInput.Line], currency: String, priceList: UUID?, on connection: PostgresConnection
    ) async throws -> [PricedLine] {
        var sql = SQLBuilder()
        sql.append("""
            SELECT p.id, p.active, p.currency, p.base_price::text, x.unit_price::text FROM \(schema.table("products")) p
            LEFT JOIN \(schema.table("price_list_prices")) x ON x.product_id = p.id AND x.price_list_id = \(try sql.bind(priceList))
            WHERE p.id = ANY(\(try sql.bind(lines.compactMap(\.productId)))::uuid[])
            """)
        var products: [UUID: (active: Bool, currency: String, base: String, listed: String?)] = [:]
        for try await (id, active, productCurrency, base, listed) in try await connection.query(sql.query, logger: logger)
            .decode((UUID, Bool, String, String, String?).self)
        {
            products[id] = (active, productCurrency, base, listed)
        }
        var check = FieldChecker()
        var result: [PricedLine] = []
        for (index, line) in lines.enumerated() {
            let path = "lines[\(index)]"
            guard let productId = line.productId else {
                check.fail("\(path).product_id", "is required")
                continue
            }
            guard let product = products[productId], product.active else {
                check.fail("\(path).product_id", "no active product \(productId.lowercased) exists")
                continue
            }
            guard let quantity = line.quantity, quantity > 0 else {
                check.fail("\(path).quantity", "must be a number above 0")
                continue
            }
            let discount = line.discountPercent ?? 0
            if discount < 0 || discount > 100 { check.fail("\(path).discount_percent", "must be a percentage from 0 to 100") }
            var price: String?
            if let given = line.unitPrice {
                do {
                    let money = try Money(given, currency)
                    if money.amount < 0 { check.fail("\(path).unit_price", "must not be negative") }
                    price = money.amountText
                } catch {
                    check.fail("\(path).unit_price", "must be a decimal string such as \"12.50\"")
                }
            } else if let listed = product.listed {
                price = listed
            } else if product.currency == currency {
                price = product.base
            } else {
                check.fail(
                    "\(path).unit_price",
                    "product \(productId.lowercased) has no price in \(currency)\(priceList == nil ? "" : " in the price list"); give unit_price"
                )
            }
            if let price {
                result.append(PricedLine(product: productId, quantity: "\(quantity)", price: price, overridden: line.unitPrice != nil, discount: "\(discount)"))
            }
        }
        try check.check(SalesError.invalid)
        return result
    }

    /// A converted lead's contact and account, on its deal unless a person has set them already.
    func link(_ id: UUID, contact: UUID, account: UUID?, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        let contactPlaceholder = try sql.bind(contact)
        let accountPlaceholder = try sql.bind(account)
        sql.append("""
            UPDATE \(deals) AS d SET contact_id = coalesce(d.contact_id, \(contactPlaceholder)),
                account_id = CASE WHEN d.contact_id IS NULL OR d.contact_id = \(contactPlaceholder)
                    THEN coalesce(d.account_id, \(accountPlaceholder)) ELSE d.account_id END,
                version = version + 1, updated_at = \(Self.now)
            WHERE d.id = \(try sql.bind(id)) AND d.deleted_at IS NULL
                AND (d.contact_id IS NULL
                    OR (d.contact_id = \(contactPlaceholder) AND d.account_id IS NULL AND \(accountPlaceholder)::uuid IS NOT NULL))
            RETURNING d.version, \(document)
            """)
        for try await (version, text) in try await connection.query(sql.query, logger: logger).decode((Int64, String).self) {
            try await outbox.append(
                try Document(text: text).event(SalesEvents.dealUpdated, producer: "sales", aggregateId: id, version: version),
                on: connection, logger: logger
            )
        }
    }

    // MARK: Parts

    private func hasLines(_ id: UUID, on connection: PostgresConnection) async throws -> Bool {
        var sql = SQLBuilder()
        sql.append("SELECT EXISTS (SELECT FROM \(schema.table("deal_lines")) WHERE deal_id = \(try sql.bind(id)))::text")
        return try await connection.texts(sql.query, logger: logger).first == "true"
    }

    struct LockedDeal {
        var id: UUID
        var version: Int64
        var status: DealStatus
        var stageId: UUID
        var stageEnteredAt: Date
    }

    /// The live deal, locked for the rest of the transaction; a version other than `expectedVersion` is a 412.
    func lock(_ id: UUID, expectedVersion: Int64?, on connection: PostgresConnection) async throws -> LockedDeal {
        var sql = SQLBuilder()
        sql.append("""
            SELECT d.version, d.status, d.stage_id, d.stage_entered_at FROM \(deals) d
            WHERE d.id = \(try sql.bind(id)) AND d.deleted_at IS NULL FOR UPDATE
            """)
        var found: LockedDeal?
        for try await (version, status, stage, entered) in try await connection.query(sql.query, logger: logger).decode((Int64, String, UUID, Date).self) {
            found = LockedDeal(id: id, version: version, status: DealStatus(rawValue: status) ?? .open, stageId: stage, stageEnteredAt: entered)
        }
        guard let found else { throw SalesError.notFound("deal \(id.lowercased)") }
        if let expectedVersion, expectedVersion != found.version {
            throw SalesError.versionMismatch(expected: expectedVersion, current: found.version)
        }
        return found
    }

    /// `at`: when the decision fell, if before now; not before the deal entered its stage (the
    /// stage history stays in order, and a sales cycle is never negative).
    private func close(
        _ id: UUID, expectedVersion: Int64, status: DealStatus, reason: String?, comment: String?, at: Date?, event type: String
    ) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            let deal = try await lock(id, expectedVersion: expectedVersion, on: connection)
            guard deal.status == .open else { throw Self.closed(deal, doing: "close it") }
            if let at, at < deal.stageEnteredAt {
                throw SalesError.invalid(
                    "closed_at", "must not be before the deal entered its stage (\(EventCoding.timestamp(deal.stageEnteredAt)))"
                )
            }
            return try await close(deal, status: status, reason: reason, comment: comment, at: at, event: type, on: connection)
        }
    }

    /// An accepted quote's deal, won in the quote's transaction when it is still open; nil when it
    /// is not (closed, or deleted).
    func winFromQuote(_ id: UUID, comment: String, on connection: PostgresConnection) async throws -> Document? {
        let deal: LockedDeal
        do {
            deal = try await lock(id, expectedVersion: nil, on: connection)
        } catch SalesError.notFound {
            return nil
        }
        guard deal.status == .open else { return nil }
        return try await close(deal, status: .won, reason: nil, comment: comment, at: nil, event: SalesEvents.dealWon, on: connection)
    }

    private func close(
        _ deal: LockedDeal, status: DealStatus, reason: String?, comment: String?, at: Date?, event type: String, on connection: PostgresConnection
    ) async throws -> Document {
        if let reason { try await LostReasonStore.requireActive(reason, schema: schema, on: connection, logger: logger) }
        try await closeStay(of: deal.id, at: at, on: connection)
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(deals) AS d SET status = \(try sql.bind(status.rawValue)), lost_reason = \(try sql.bind(reason)),
                close_comment = \(try sql.bind(comment)), closed_at = \(try Self.instant(at, into: &sql)), version = version + 1, updated_at = \(Self.now)
            WHERE d.id = \(try sql.bind(deal.id)) RETURNING \(document)
            """)
        let closed = try await connection.document(returnedBy: sql.query, logger: logger)
        try await outbox.append(try closed.event(type, producer: "sales", aggregateId: deal.id, version: deal.version + 1), on: connection, logger: logger)
        return closed
    }

    /// Ends the deal's current stay in its stage, if it has one.
    private func closeStay(of id: UUID, at: Date? = nil, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("UPDATE \(history) SET exited_at = \(try Self.instant(at, into: &sql)) WHERE deal_id = \(try sql.bind(id)) AND exited_at IS NULL")
        try await connection.query(sql.query, logger: logger)
    }

    /// A time a client gave (to the millisecond, as the service's own), or now.
    private static func instant(_ at: Date?, into sql: inout SQLBuilder) throws -> String {
        try at.map { "date_trunc('milliseconds', \(try sql.bind($0))::timestamptz)" } ?? now
    }

    /// Puts the deal in a stage from now on (with `set` as further assignments) and opens its stay there.
    private func enter(
        _ id: UUID, stageId: UUID, pipelineId: UUID, set: [(String, String)], on connection: PostgresConnection
    ) async throws -> Document {
        var sql = SQLBuilder()
        let assignments = set.map { "\($0.0) = \($0.1), " }.joined()
        let stage = try sql.bind(stageId)
        sql.append("""
            WITH d AS (
                UPDATE \(deals) AS d SET stage_id = \(stage), pipeline_id = \(try sql.bind(pipelineId)),
                    visited = (SELECT array_agg(DISTINCT v ORDER BY v) FROM unnest(array_append(d.visited, \(stage)::uuid)) AS v),
                    stage_entered_at = \(Self.now), \(assignments)version = version + 1, updated_at = \(Self.now)
                WHERE d.id = \(try sql.bind(id)) RETURNING d.id, d.stage_id, d.stage_entered_at, \(document) AS document),
            stay AS (INSERT INTO \(history) (deal_id, stage_id, entered_at) SELECT id, stage_id, stage_entered_at FROM d)
            SELECT document FROM d
            """)
        return try await connection.document(returnedBy: sql.query, logger: logger)
    }

    /// The pipeline and active stage a deal goes to: the stage asked for (locked against its
    /// retirement until the transaction ends), else the first stage of the pipeline asked for, else
    /// the first stage of the default pipeline.
    private func placement(pipeline: UUID?, stage: UUID?, on connection: PostgresConnection) async throws -> (pipeline: UUID, stage: UUID) {
        var sql = SQLBuilder()
        sql.append("SELECT s.pipeline_id, s.id FROM \(stages) s JOIN \(schema.table("pipelines")) p ON p.id = s.pipeline_id WHERE s.retired_at IS NULL")
        if let stage {
            sql.append(" AND s.id = \(try sql.bind(stage))")
        } else if let pipeline {
            sql.append(" AND s.pipeline_id = \(try sql.bind(pipeline))")
        } else {
            sql.append(" AND p.is_default")
        }
        sql.append(" ORDER BY s.position LIMIT 1 FOR SHARE OF s")
        var found: (UUID, UUID)?
        for try await row in try await connection.query(sql.query, logger: logger).decode((UUID, UUID).self) { found = row }
        guard let found else {
            if let stage { throw SalesError.invalid("stage_id", "no active stage \(stage.lowercased) exists") }
            if let pipeline { throw SalesError.invalid("pipeline_id", "no pipeline \(pipeline.lowercased) with an active stage exists") }
            throw SalesError.noDefaultPipeline
        }
        if let pipeline, pipeline != found.0 {
            throw SalesError.invalid("stage_id", "stage \(found.1.lowercased) belongs to another pipeline than \(pipeline.lowercased)")
        }
        return found
    }

    private static func closed(_ deal: LockedDeal, doing action: String) -> SalesError {
        SalesError.conflict(.dealClosed, "deal \(deal.id.lowercased) is \(deal.status.rawValue); reopen it before you \(action)")
    }

    /// The stored writable fields as a patch's base: `probability` as stored (null for the
    /// stage's default), not the effective one the document shows.
    private static let writableFields = """
        jsonb_build_object('title', d.title, 'contact_id', d.contact_id, 'account_id', d.account_id,
            'amount', jsonb_build_object('amount', d.amount::text, 'currency', d.currency), 'probability', d.probability,
            'expected_close_date', d.expected_close_date, 'owner', d.owner, 'source_campaign_id', d.source_campaign_id,
            'lead_id', d.lead_id, 'tags', to_jsonb(d.tags))
        """

    private static func columns(_ fields: DealFields, contactId: UUID?, into sql: inout SQLBuilder) throws -> [(String, String)] {
        [
            ("title", try sql.bind(fields.title ?? "")),
            ("contact_id", try sql.bind(contactId)),
            ("account_id", try sql.bind(fields.accountId)),
            ("amount", try sql.bind(fields.amount?.amountText ?? "0") + "::numeric"),
            ("currency", try sql.bind(fields.amount?.currency ?? "EUR")),
            ("probability", try sql.bind(fields.probability.map(Int32.init))),
            ("expected_close_date", try sql.bind(fields.expectedCloseDate) + "::date"),
            ("owner", try sql.bind(fields.owner)),
            ("source_campaign_id", try sql.bind(fields.sourceCampaignId)),
            ("lead_id", try sql.bind(fields.leadId)),
            ("tags", try sql.bind(fields.tags ?? []) + "::text[]"),
        ]
    }
}

enum DealStatus: String, CaseIterable, Sendable {
    case open, won, lost
}
