import Contracts
import Foundation
import ServiceKit

/// A product as a client writes it.
struct ProductFields: Codable, Sendable {
    var code: String?
    var name: String?
    var unit: String?
    var basePrice: Money?
    /// Percent, such as 19 or 7.5.
    var taxRate: Decimal?
    var active: Bool?

    enum CodingKeys: String, CodingKey {
        case code, name, unit, active
        case basePrice = "base_price"
        case taxRate = "tax_rate"
    }

    func validated() throws(SalesError) -> ProductFields {
        var check = FieldChecker()
        var result = self
        result.code = check.text(code, "code", required: true, maximum: 50)
        if let code = result.code, code.wholeMatch(of: /[A-Za-z0-9._\-\/]+/) == nil {
            check.fail("code", "may hold letters, digits and . _ - / only")
        }
        result.name = check.text(name, "name", required: true)
        result.unit = check.text(unit, "unit", maximum: 20) ?? "pc"
        if basePrice == nil { check.fail("base_price", "is required, as {\"amount\": \"12.50\", \"currency\": \"EUR\"}") }
        if let basePrice, basePrice.amount < 0 { check.fail("base_price.amount", "must not be negative") }
        if let taxRate, taxRate < 0 || taxRate > 100 { check.fail("tax_rate", "must be a percentage from 0 to 100") }
        result.taxRate = taxRate ?? 0
        result.active = active ?? true
        try check.check(SalesError.invalid)
        return result
    }
}

/// A price list's own fields; its prices are set one product at a time.
struct PriceListFields: Codable, Sendable {
    var name: String?
    var currency: String?
    var customerGroup: String?

    enum CodingKeys: String, CodingKey {
        case name, currency
        case customerGroup = "customer_group"
    }

    func validated() throws(SalesError) -> PriceListFields {
        var check = FieldChecker()
        var result = self
        result.name = check.text(name, "name", required: true, maximum: 100)
        result.currency = check.text(currency, "currency", required: true, maximum: 3)?.uppercased()
        if let currency = result.currency, currency.wholeMatch(of: /[A-Z]{3}/) == nil {
            check.fail("currency", "must be a three-letter ISO 4217 code such as EUR")
        }
        result.customerGroup = check.text(customerGroup, "customer_group", maximum: 100)
        try check.check(SalesError.invalid)
        return result
    }
}

/// `PUT /price-lists/{id}/prices/{product_id}`.
struct PriceInput: Decodable, Sendable {
    var unitPrice: Money?

    enum CodingKeys: String, CodingKey { case unitPrice = "unit_price" }
}

/// `PUT /deals/{id}/lines`: the deal's lines as a whole, and the price list they are priced from.
struct DealLinesInput: Decodable, Sendable {
    var priceListId: UUID?
    var currency: String?
    var lines: [Line]?
    var version: Int64?

    struct Line: Decodable, Sendable {
        var productId: UUID?
        var quantity: Decimal?
        /// A decimal string; given, it overrides the price list's (and the product's) price.
        var unitPrice: String?
        var discountPercent: Decimal?

        enum CodingKeys: String, CodingKey {
            case quantity
            case productId = "product_id"
            case unitPrice = "unit_price"
            case discountPercent = "discount_percent"
        }
    }

    enum CodingKeys: String, CodingKey {
        case lines, version, currency
        case priceListId = "price_list_id"
    }
}

/// `POST /deals/{id}/quotes`.
struct QuoteRequest: Decodable, Sendable {
    /// `YYYY-MM-DD`; 30 days from today when not given.
    var validUntil: String?
    var notes: String?

    enum CodingKeys: String, CodingKey {
        case notes
        case validUntil = "valid_until"
    }
}

/// The body of the quote actions.
struct QuoteAction: Decodable, Sendable {
    var reason: String?
    /// Accept: also mark the deal won (default true).
    var markDealWon: Bool?
    var version: Int64?

    enum CodingKeys: String, CodingKey {
        case reason, version
        case markDealWon = "mark_deal_won"
    }
}
