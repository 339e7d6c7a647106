import Contracts
import Foundation
import Testing

@Suite("Money on the wire")
struct MoneyTests {
    @Test("encodes as a decimal string with two places at least")
    func encodes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for (input, text) in [("1250", "1250.00"), ("1250.5", "1250.50"), ("0.125", "0.125"), ("-3.10", "-3.10")] {
            let json = String(decoding: try encoder.encode(try Money(input, "EUR")), as: UTF8.self)
            #expect(json == #"{"amount":"\#(text)","currency":"EUR"}"#)
        }
    }

    @Test("decodes exactly, without floating point")
    func decodesExactly() throws {
        let money = try JSONDecoder().decode(Money.self, from: Data(#"{"amount":"0.10","currency":"USD"}"#.utf8))
        #expect(money.amount == Decimal(string: "0.1"))
        #expect(money.amount * 3 == Decimal(string: "0.3"))
    }

    @Test("refuses floats, exponents, grouping and bad currencies, naming the field")
    func refusesBadInput() throws {
        for amount in ["1e3", "1,000.00", "", "12.", "abc", " 1"] {
            #expect(throws: ContractError.invalid(field: "amount", reason: "must be a decimal string such as \"1250.00\"")) {
                try Money(amount, "EUR")
            }
        }
        for currency in ["eur", "EURO", "E1R"] {
            #expect(throws: ContractError.self) { try Money("1.00", currency) }
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Money.self, from: Data(#"{"amount":12.5,"currency":"EUR"}"#.utf8))
        }
    }
}
