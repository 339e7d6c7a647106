import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// What a client sends to turn a deal into an order in an ERP.
struct NewOrderRequest: Decodable, Sendable {
    /// The ERP source that is to take the order (`switchboard erp add-source`).
    var source: String?
    /// The accepted quote it rests on; by default the deal's latest accepted quote.
    var quoteId: UUID?

    enum CodingKeys: String, CodingKey {
        case source
        case quoteId = "quote_id"
    }
}

/// Order requests: an accepted quote, or a won deal with lines, handed to the ERP bridge as
/// `sales.deal.order_requested`, which sends it to the source. Sales only checks that the deal can
/// be ordered; which sources exist, and what became of the request, is the bridge's.
struct OrderRequests: ServiceStore {
    let service: ServiceDependencies

    func request(deal dealId: UUID, _ input: NewOrderRequest, by caller: String?) async throws -> String {
        var check = FieldChecker()
        let source = check.text(input.source, "source", required: true, maximum: 40)
        if let source, source.wholeMatch(of: /[a-z][a-z0-9_]{0,39}/) == nil {
            check.fail("source", "is an ERP source's name: a lower-case letter, then lower-case letters, digits or _")
        }
        try check.check(SalesError.invalid)
        return try await client.transaction(logger: logger) { connection in
            var read = SQLBuilder()
            read.append("""
                SELECT \(schema.quoted).deal_document(d)::text, d.version, d.status, (SELECT count(*) FROM \(schema.table("deal_lines")) l WHERE l.deal_id = d.id)
                FROM \(schema.table("deals")) d WHERE d.id = \(try read.bind(dealId)) AND d.deleted_at IS NULL FOR SHARE
                """)
            var found: (document: String, version: Int64, status: String, lines: Int64)?
            for try await row in try await connection.query(read.query, logger: logger).decode((String, Int64, String, Int64).self) { found = row }
            guard let deal = found else { throw SalesError.notFound("deal \(dealId.lowercased)") }
            var quoteSQL = SQLBuilder()
            quoteSQL.append("""
                SELECT \(schema.quoted).quote_document(q)::text, q.status FROM \(schema.table("quotes")) q
                WHERE q.deal_id = \(try quoteSQL.bind(dealId))
                """)
            if let quoteId = input.quoteId {
                quoteSQL.append(" AND q.id = \(try quoteSQL.bind(quoteId))")
            } else {
                quoteSQL.append(" AND q.status = 'accepted' ORDER BY q.decided_at DESC LIMIT 1")
            }
            var quote: (document: String, status: String)?
            for try await row in try await connection.query(quoteSQL.query, logger: logger).decode((String, String).self) { quote = row }
            if let quoteId = input.quoteId {
                guard let quote else { throw SalesError.invalid("quote_id", "names no quote of this deal") }
                guard quote.status == "accepted" else {
                    throw SalesError.conflict(.quoteStatus, "quote \(quoteId.lowercased) is \(quote.status): only an accepted quote becomes an order")
                }
            } else if quote == nil, !(deal.status == "won" && deal.lines > 0) {
                throw SalesError.conflict(.orderRequest, "deal \(dealId.lowercased) has no accepted quote and is not won with lines: nothing to order yet")
            }
            let id = UUID.timeOrdered()
            let now = Date()
            var data = "{\"id\":\"\(id.lowercased)\",\"source\":\(Self.json(source ?? "")),\"requested_by\":\(caller.map(Self.json) ?? "null"),"
            data += "\"requested_at\":\"\(EventCoding.timestamp(now))\",\"deal\":\(deal.document),\"quote\":\(quote?.document ?? "null")}"
            let payload = try APICoding.decoder.decode(JSONValue.self, from: Data(data.utf8))
            try await outbox.append(
                EventEnvelope(
                    type: SalesEvents.dealOrderRequested, producer: "sales", aggregateId: dealId, aggregateVersion: deal.version, data: payload
                ),
                on: connection, logger: logger
            )
            logger.info("order request", metadata: ["deal": "\(dealId.lowercased)", "source": "\(source ?? "")", "request": "\(id.lowercased)"])
            return data
        }
    }

    static func json(_ text: String) -> String {
        String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }
}
