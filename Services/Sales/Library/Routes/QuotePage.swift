import Contracts
import Foundation
import ServiceKit

/// A quote as a printable HTML page: what `GET /quotes/{id}/html` answers.
enum QuotePage {
    struct Quote: Decodable {
        var number: String
        var status: String
        var customer: Customer
        var lines: [Line]
        var subtotal: Money
        var discount: Money
        var tax: Money
        var total: Money
        var taxes: [TaxRow]
        var validUntil: String
        var notes: String?
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case number, status, customer, lines, subtotal, discount, tax, total, taxes, notes
            case validUntil = "valid_until"
            case createdAt = "created_at"
        }
    }

    struct Customer: Decodable {
        var dealTitle: String?
        var name: String?
        var company: String?
        var region: String?
        var country: String?

        enum CodingKeys: String, CodingKey {
            case name, company, region, country
            case dealTitle = "deal_title"
        }
    }

    struct Line: Decodable {
        var productCode: String
        var productName: String
        var unit: String
        var quantity: Decimal
        var unitPrice: Money
        var discountPercent: Decimal
        var taxRate: Decimal
        var net: Money

        enum CodingKeys: String, CodingKey {
            case unit, quantity, net
            case productCode = "product_code"
            case productName = "product_name"
            case unitPrice = "unit_price"
            case discountPercent = "discount_percent"
            case taxRate = "tax_rate"
        }
    }

    struct TaxRow: Decodable {
        var rate: Decimal
        var base: Money
        var tax: Money
    }

    static func render(_ document: Document) throws -> String {
        let quote = try document.decode(Quote.self)
        let rows = quote.lines.map { line in
            """
            <tr><td>\(escape(line.productCode))</td><td>\(escape(line.productName))</td><td class="n">\(line.quantity) \(escape(line.unit))</td>\
            <td class="n">\(line.unitPrice)</td><td class="n">\(line.discountPercent == 0 ? "" : "\(line.discountPercent) %")</td>\
            <td class="n">\(line.taxRate) %</td><td class="n">\(line.net)</td></tr>
            """
        }.joined(separator: "\n")
        let taxRows = quote.taxes.map { row in
            "<tr><td colspan=\"6\">Tax \(row.rate) % of \(row.base)</td><td class=\"n\">\(row.tax)</td></tr>"
        }.joined(separator: "\n")
        let customer = [quote.customer.name, quote.customer.company, quote.customer.region, quote.customer.country]
            .compactMap { $0 }.filter { !$0.isEmpty }.map(escape).joined(separator: "<br>")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Quote \(escape(quote.number))</title>
            <style>
            body { font: 11pt/1.4 sans-serif; margin: 2cm; color: #111; }
            h1 { font-size: 18pt; margin: 0 0 .2em; }
            table { width: 100%; border-collapse: collapse; margin-top: 1.5em; }
            th, td { padding: .3em .4em; border-bottom: 1px solid #ccc; text-align: left; vertical-align: top; }
            .n { text-align: right; white-space: nowrap; }
            tfoot td { border: none; }
            tfoot tr.total td { font-weight: bold; border-top: 2px solid #111; }
            .meta { color: #555; }
            @media print { body { margin: 0; } }
            </style></head>
            <body>
            <h1>Quote \(escape(quote.number))</h1>
            <p class="meta">\(escape(quote.customer.dealTitle ?? "")) · issued \(escape(String(quote.createdAt.prefix(10)))) · valid until \(escape(quote.validUntil)) · \(escape(quote.status))</p>
            <p>\(customer)</p>
            <table>
            <thead><tr><th>Code</th><th>Product</th><th class="n">Quantity</th><th class="n">Unit price</th><th class="n">Discount</th><th class="n">Tax</th><th class="n">Net</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            <tfoot>
            <tr><td colspan="6">Subtotal</td><td class="n">\(quote.subtotal)</td></tr>
            <tr><td colspan="6">Discount</td><td class="n">−\(quote.discount)</td></tr>
            \(taxRows)
            <tr class="total"><td colspan="6">Total</td><td class="n">\(quote.total)</td></tr>
            </tfoot>
            </table>
            \(quote.notes.map { "<p>\(escape($0).replacingOccurrences(of: "\n", with: "<br>"))</p>" } ?? "")
            </body></html>
            """
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
