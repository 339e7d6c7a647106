import Foundation
import ServiceKit

enum OrderStatus: String, CaseIterable, Sendable {
    case placed, confirmed, shipped, delivered, invoiced, paid, cancelled, returned
}

/// An order as a source publishes it (`<source>.order`, Services/ERPBridge/asyncapi.yaml): the
/// whole order as it now stands. Amounts stay decimal strings until PostgreSQL reads them.
struct InboundOrder: Sendable {
    var orderNumber: String
    var version: Int64
    var status: OrderStatus
    var statusAt: Date
    var orderedAt: Date
    var customer: Customer
    var currency: String
    var lines: [Line]
    var net: String?
    var tax: String?
    var gross: String
    var payment: Payment?
    /// The address as sent (an object), kept as JSON text.
    var deliveryAddress: String?
    var crmDealId: UUID?

    struct Customer: Sendable {
        var erpId: String
        var crmContactId: UUID?
        var crmAccountId: UUID?
        var taxId: String?
        var email: String?
        var phone: String?
        var name: String?
        /// As sent, for the order's record.
        var json: String

        /// Named by the source's customer number alone, with no CRM id: the link decides who it is.
        var isNamedByNumber: Bool { crmContactId == nil && crmAccountId == nil }
    }

    struct Line: Sendable {
        var lineNo: Int64
        var sku: String?
        var description: String?
        var quantity: String
        var unitPrice: String?
        var discountPercent: String?
        var taxAmount: String?
        var lineTotal: String
        var deliveredQuantity: String?
        var serialNumbers: [String]
    }

    struct Payment: Sendable {
        var termsDays: Int64?
        var dueAt: Date?
        var paidAt: Date?
        var dunningLevel: Int64?
        var json: String
    }

    /// The order, or every fault of the body named by its field.
    static func parse(_ body: [UInt8]) -> Result<InboundOrder, Rejection> {
        var read = DocumentReader()
        guard let document = read.object(body: body) else { return .failure(Rejection(read.errors)) }
        let orderNumber = read.text(document["order_number"], "order_number", required: true, maximum: 64)
        let version = read.integer(document["version"], "version", required: true, in: 1...Int64(1) << 53)
        let status = read.oneOf(document["status"], "status", required: true, OrderStatus.self)
        let statusAt = read.time(document["status_at"], "status_at", required: true)
        let orderedAt = read.time(document["ordered_at"], "ordered_at", required: true)
        let currency = read.text(document["currency"], "currency", required: true, maximum: 3)
        if let currency, !(currency.count == 3 && currency.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) })) {
            read.fail("currency", "must be a three-letter ISO 4217 code such as EUR")
        }
        let customer = Self.customer(document["customer"], &read)
        var lines: [Line] = []
        var numbers = Set<Int64>()
        for (index, value) in (read.array(document["lines"], "lines", required: true) ?? []).enumerated() {
            guard let line = Self.line(value, "lines[\(index)]", &read) else { continue }
            if !numbers.insert(line.lineNo).inserted { read.fail("lines[\(index)].line_no", "is listed twice") }
            lines.append(line)
        }
        let totals = read.object(document["totals"], "totals", required: true)
        let net = read.decimal(totals?["net"], "totals.net", negative: true)
        let tax = read.decimal(totals?["tax"], "totals.tax", negative: true)
        let gross = totals == nil ? nil : read.decimal(totals?["gross"], "totals.gross", required: true, negative: true)
        let payment = Self.payment(document["payment"], &read)
        let address = read.object(document["delivery_address"], "delivery_address")
        let dealId = read.uuid(document["crm_deal_id"], "crm_deal_id")
        guard read.errors.isEmpty, let orderNumber, let version, let status, let statusAt, let orderedAt, let currency,
            let customer, let gross
        else { return .failure(Rejection(read.errors)) }
        return .success(
            InboundOrder(
                orderNumber: orderNumber, version: version, status: status, statusAt: statusAt, orderedAt: orderedAt,
                customer: customer, currency: currency, lines: lines, net: net, tax: tax, gross: gross, payment: payment,
                deliveryAddress: address.map(Self.json), crmDealId: dealId
            )
        )
    }

    private static func customer(_ value: Any?, _ read: inout DocumentReader) -> Customer? {
        guard let object = read.object(value, "customer", required: true) else { return nil }
        let erpId = read.text(object["erp_id"], "customer.erp_id", required: true, maximum: 64)
        let contactId = read.uuid(object["crm_contact_id"], "customer.crm_contact_id")
        let accountId = read.uuid(object["crm_account_id"], "customer.crm_account_id")
        let taxId = read.text(object["tax_id"], "customer.tax_id", maximum: 50)
        let email = read.text(object["email"], "customer.email", maximum: 254)
        if let email, Normalize.email(email) == nil { read.fail("customer.email", "is not an e-mail address") }
        let phone = read.text(object["phone"], "customer.phone", maximum: 40)
        if let phone, Normalize.phone(phone) == nil { read.fail("customer.phone", "is not a phone number") }
        let name = read.text(object["name"], "customer.name", maximum: 200)
        _ = read.decimal(object["credit_limit"], "customer.credit_limit")
        guard let erpId else { return nil }
        return Customer(
            erpId: erpId, crmContactId: contactId, crmAccountId: accountId, taxId: taxId, email: email, phone: phone, name: name,
            json: json(object)
        )
    }

    private static func line(_ value: Any?, _ path: String, _ read: inout DocumentReader) -> Line? {
        guard let object = read.object(value, path, required: true) else { return nil }
        let lineNo = read.integer(object["line_no"], "\(path).line_no", required: true, in: 1...1_000_000)
        let sku = read.text(object["sku"], "\(path).sku", maximum: 64)
        let description = read.text(object["description"], "\(path).description", maximum: 500)
        let quantity = read.decimal(object["quantity"], "\(path).quantity", required: true, negative: true)
        let unitPrice = read.decimal(object["unit_price"], "\(path).unit_price", negative: true)
        let discount = read.decimal(object["discount_percent"], "\(path).discount_percent")
        let taxAmount = read.decimal(object["tax_amount"], "\(path).tax_amount", negative: true)
        let total = read.decimal(object["line_total"], "\(path).line_total", required: true, negative: true)
        let delivered = read.decimal(object["delivered_quantity"], "\(path).delivered_quantity")
        var serials: [String] = []
        for (index, serial) in (read.array(object["serial_numbers"], "\(path).serial_numbers") ?? []).enumerated() {
            if let text = read.text(serial, "\(path).serial_numbers[\(index)]", required: true, maximum: 100) { serials.append(text) }
        }
        guard let lineNo, let quantity, let total else { return nil }
        return Line(
            lineNo: lineNo, sku: sku, description: description, quantity: quantity, unitPrice: unitPrice, discountPercent: discount,
            taxAmount: taxAmount, lineTotal: total, deliveredQuantity: delivered, serialNumbers: serials
        )
    }

    private static func payment(_ value: Any?, _ read: inout DocumentReader) -> Payment? {
        guard let object = read.object(value, "payment") else { return nil }
        return Payment(
            termsDays: read.integer(object["terms_days"], "payment.terms_days", in: 0...3650),
            dueAt: read.time(object["due_at"], "payment.due_at"),
            paidAt: read.time(object["paid_at"], "payment.paid_at"),
            dunningLevel: read.integer(object["dunning_level"], "payment.dunning_level", in: 0...9),
            json: json(object)
        )
    }

    static func json(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
