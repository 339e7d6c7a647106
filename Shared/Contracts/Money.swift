import Foundation

/// An amount in a currency, as the API and the events carry it (DESIGN.md §7):
/// `{"amount": "1250.00", "currency": "EUR"}`. The amount is a decimal string, never a float.
public struct Money: Sendable, Hashable, Codable, CustomStringConvertible {
    public let amount: Decimal
    /// ISO 4217 code, three upper-case letters.
    public let currency: String

    public init(amount: Decimal, currency: String) throws(ContractError) {
        guard currency.count == 3, currency.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw .invalid(field: "currency", reason: "must be a three-letter ISO 4217 code such as EUR")
        }
        self.amount = amount
        self.currency = currency
    }

    public init(_ amount: String, _ currency: String) throws(ContractError) {
        try self.init(amount: try Self.parse(amount), currency: currency)
    }

    /// Accepts `-?digits(.digits)?` only: no exponent, no grouping, no locale.
    static func parse(_ text: String) throws(ContractError) -> Decimal {
        let pattern = /^-?[0-9]{1,18}(\.[0-9]{1,6})?$/
        guard text.wholeMatch(of: pattern) != nil, let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        else { throw .invalid(field: "amount", reason: "must be a decimal string such as \"1250.00\"") }
        return value
    }

    /// The amount with two decimals at least (more when it has them).
    public var amountText: String {
        var rounded = amount
        var scaled = Decimal()
        NSDecimalRound(&scaled, &rounded, 2, .plain)
        let places = scaled == amount ? 2 : max(2, -amount.exponent)
        let formatter = NumberFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.minimumFractionDigits = places
        formatter.maximumFractionDigits = places
        formatter.minimumIntegerDigits = 1
        formatter.usesGroupingSeparator = false
        return formatter.string(from: amount as NSDecimalNumber) ?? "\(amount)"
    }

    public var description: String { "\(amountText) \(currency)" }

    private enum CodingKeys: String, CodingKey { case amount, currency }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .amount)
        let currency = try container.decode(String.self, forKey: .currency)
        do {
            try self.init(text, currency)
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: error.field == "amount" ? .amount : .currency, in: container, debugDescription: error.description
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(amountText, forKey: .amount)
        try container.encode(currency, forKey: .currency)
    }
}

public enum ContractError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(field: String, reason: String)

    public var field: String {
        switch self { case let .invalid(field, _): field }
    }

    public var description: String {
        switch self { case let .invalid(field, reason): "\(field) \(reason)" }
    }
}
