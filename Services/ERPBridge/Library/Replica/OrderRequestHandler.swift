import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// `sales.deal.order_requested`: the deal, its accepted quote if any, and the source, sent on to
/// the source as `<source>.order_request` (customer, lines and totals from the quote, else from
/// the won deal), or refused when the source takes no messages. Either way it is recorded for the
/// deal's page; the source's answering order, which carries `crm_deal_id`, links back.
struct OrderRequestHandler: ServiceStore {
    let service: ServiceDependencies

    static let messageType = "erp.order_request"

    var handler: EventHandler {
        EventHandler(type: SalesEvents.dealOrderRequested) { envelope, context in
            let request = try envelope.payload(as: SalesOrderRequest.self)
            try await record(request, envelope: envelope, on: context.connection)
        }
    }

    private func record(_ request: SalesOrderRequest, envelope: EventEnvelope, on connection: PostgresConnection) async throws {
        var sources = SQLBuilder()
        sources.append("SELECT 1 FROM \(schema.table("sources")) WHERE name = \(try sources.bind(request.source)) AND removed_at IS NULL")
        let active = try await connection.query(sources.query, logger: logger).collect().count > 0
        let dealId = request.deal.id
        var message: String?
        if active {
            var link = SQLBuilder()
            link.append("""
                SELECT erp_id FROM \(schema.table("customer_links")) WHERE source = \(try link.bind(request.source))
                    AND (account_id = \(try link.bind(request.deal.accountId)) OR contact_id = \(try link.bind(request.deal.contactId)))
                ORDER BY account_id IS NULL, linked_at DESC LIMIT 1
                """)
            var erpId: String?
            for try await value in try await connection.query(link.query, logger: logger).decode(String.self) { erpId = value }
            message = try request.message(erpId: erpId)
        }
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(schema.table("order_requests")) (id, deal_id, quote_id, source, status, reason, message, requested_by, requested_at)
            VALUES (\(try sql.bind(request.id)), \(try sql.bind(dealId)), \(try sql.bind(request.quote?.id)), \(try sql.bind(request.source)),
                \(try sql.bind(active ? "sent" : "refused")),
                \(try sql.bind(active ? nil : "'\(request.source)' is not a source the CRM sends to")),
                \(try sql.bind(message))::jsonb, \(try sql.bind(request.requestedBy)), \(try sql.bind(request.requestedAt)))
            ON CONFLICT (id) DO NOTHING
            """)
        try await connection.query(sql.query, logger: logger)
        if let message {
            try await outbox.append(
                [OutboundMessage(
                    exchange: CRMTopology.erpOutboundExchange, routingKey: "\(request.source).order_request", type: Self.messageType,
                    body: message, correlationId: envelope.correlationId
                )],
                on: connection, logger: logger
            )
        }
    }
}

/// What the bridge reads of `sales.deal.order_requested`.
struct SalesOrderRequest: Decodable {
    var id: UUID
    var source: String
    var requestedBy: String?
    var requestedAt: Date
    var deal: Deal
    var quote: Quote?

    struct Money: Decodable {
        var amount: String
        var currency: String
    }

    struct Line: Decodable {
        var productCode: String?
        var productName: String?
        var quantity: Double?
        var unitPrice: Money?
        var discountPercent: Double?
        var total: Money?
        var net: Money?
        var tax: Money?

        enum CodingKeys: String, CodingKey {
            case quantity, total, net, tax
            case productCode = "product_code"
            case productName = "product_name"
            case unitPrice = "unit_price"
            case discountPercent = "discount_percent"
        }
    }

    struct Deal: Decodable {
        var id: UUID
        var title: String
        var contactId: UUID?
        var accountId: UUID?
        var amount: Money?
        var lines: [Line]

        enum CodingKeys: String, CodingKey {
            case id, title, amount, lines
            case contactId = "contact_id"
            case accountId = "account_id"
        }
    }

    struct Quote: Decodable {
        var id: UUID
        var number: String
        var lines: [Line]
        var subtotal: Money?
        var tax: Money?
        var total: Money?
        var customer: Customer?

        struct Customer: Decodable {
            var name: String?
            var company: String?
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, source, deal, quote
        case requestedBy = "requested_by"
        case requestedAt = "requested_at"
    }

    /// The `<source>.order_request` body: the quote's lines and totals when there is one, else
    /// the won deal's.
    func message(erpId: String?) throws -> String {
        let lines = quote?.lines ?? deal.lines
        let currency = quote?.total?.currency ?? deal.amount?.currency ?? lines.first?.unitPrice?.currency
        var document: [String: Any] = [
            "request_id": id.lowercased, "crm_deal_id": deal.id.lowercased, "deal_title": deal.title,
            "crm_quote_id": quote.map { $0.id.lowercased } ?? NSNull(), "quote_number": quote?.number ?? NSNull(),
            "requested_at": EventCoding.timestamp(requestedAt), "requested_by": requestedBy ?? NSNull(),
            "customer": [
                "erp_id": erpId ?? NSNull(), "crm_contact_id": deal.contactId?.lowercased ?? NSNull(),
                "crm_account_id": deal.accountId?.lowercased ?? NSNull(), "name": quote?.customer?.company ?? quote?.customer?.name ?? NSNull(),
            ] as [String: Any],
            "currency": currency ?? NSNull(),
            "lines": lines.enumerated().map { index, line -> [String: Any] in
                [
                    "line_no": index + 1, "sku": line.productCode ?? NSNull(), "description": line.productName ?? NSNull(),
                    "quantity": line.quantity.map { Self.decimal($0) } ?? NSNull(), "unit_price": line.unitPrice?.amount ?? NSNull(),
                    "discount_percent": line.discountPercent.map { Self.decimal($0) } ?? NSNull(),
                    "line_total": (line.total ?? line.net)?.amount ?? NSNull(),
                ]
            },
            "totals": [
                "net": quote?.subtotal?.amount ?? deal.amount?.amount ?? NSNull(), "tax": quote?.tax?.amount ?? NSNull(),
                "gross": quote?.total?.amount ?? deal.amount?.amount ?? NSNull(),
            ] as [String: Any],
        ]
        if quote == nil { document["note"] = "a won deal without a quote: its lines and amount, taxes to be added by the ERP" }
        return String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]), as: UTF8.self)
    }

    static func decimal(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
