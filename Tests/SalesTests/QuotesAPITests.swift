import Contracts
import Foundation
import ServiceKit
import Logging
import Messaging
import PostgresNIO
@testable import SalesService
import SalesService
import Storage
import TestSupport
import Testing

/// Products, price lists, a deal's lines and its quotes, in-process on a schema of each test's own.
@Suite("Products, lines and quotes", .timeLimit(.minutes(3)))
struct QuotesAPITests {
    @Test("a deal's lines are priced from its price list, the product, or the line; the deal's amount is their sum")
    func lines() async throws {
        try await SalesChecks.run { try await $0.lines() }
    }

    @Test("a quote is made of the lines with discounts and taxes, numbered in the year's sequence, printable, sent and accepted, which wins the deal")
    func quoteToWon() async throws {
        try await SalesChecks.run { try await $0.quoteToWon() }
    }

    @Test("a lost deal takes no new quote, and its sent quote is neither sent nor accepted until the deal is reopened")
    func lostDeal() async throws {
        try await SalesChecks.run { try await $0.lostDeal() }
    }

    @Test("a sent quote past its last valid day is refused and then expired by the sweep, with its event")
    func expiry() async throws {
        try await SalesChecks.run { try await $0.expiry() }
    }
}

extension SalesChecks {
    func product(_ name: String, _ price: String, _ currency: String, tax: Double) async throws -> [String: Any] {
        let created = try await api.post("/api/v1/products", [
            "code": TestEnvironment.uniqueName(name).uppercased(), "name": name, "unit": "pc",
            "base_price": Self.money(price, currency), "tax_rate": tax,
        ])
        try #require(created.status == 201, "\(created.text)")
        return created.json
    }

    /// A deal of `owner` with three lines priced three ways, 380.00 EUR in all:
    /// 2 × A at its base price 100.00 less 10% = 180.00 (19% tax); 3 × B at the list's 40.00 =
    /// 120.00 (7% tax; B's own price is in USD); 1 × A at a given 80.00 = 80.00.
    func dealWithLines(owner: String) async throws -> (deal: [String: Any], a: [String: Any], b: [String: Any]) {
        let a = try await product("Alpha", "100", "EUR", tax: 19)
        let b = try await product("Beta", "50", "USD", tax: 7)
        let list = try await api.post("/api/v1/price-lists", ["name": TestEnvironment.uniqueName("Retail EUR"), "currency": "eur"])
        try #require(list.status == 201, "\(list.text)")
        let listId = try #require(list.json["id"] as? String)
        let priced = try await api.send("PUT", "/api/v1/price-lists/\(listId)/prices/\(b["id"]!)", json: ["unit_price": Self.money("40", "EUR")])
        #expect(priced.status == 200, "\(priced.text)")
        #expect((priced.json["prices"] as? [[String: Any]])?.first?["unit_price"] as? [String: String] == Self.money("40.00", "EUR"))
        let wrongCurrency = try await api.send("PUT", "/api/v1/price-lists/\(listId)/prices/\(a["id"]!)", json: ["unit_price": Self.money("1", "USD")])
        #expect(wrongCurrency.status == 422)

        let created = try await api.post("/api/v1/deals", ["title": "Lined", "owner": owner, "amount": Self.money("1", "EUR")])
        let deal = try #require(created.json as [String: Any]?)
        let lined = try await api.send("PUT", "/api/v1/deals/\(deal["id"]!)/lines", json: [
            "price_list_id": listId, "version": 1,
            "lines": [
                ["product_id": a["id"]!, "quantity": 2, "discount_percent": 10],
                ["product_id": b["id"]!, "quantity": 3],
                ["product_id": a["id"]!, "quantity": 1, "unit_price": "80.00"],
            ],
        ])
        #expect(lined.status == 200, "\(lined.text)")
        return (lined.json, a, b)
    }

    func lines() async throws {
        let (deal, a, _) = try await dealWithLines(owner: try await staffUser())
        #expect(deal["amount"] as? [String: String] == Self.money("380.00", "EUR"))
        let lines = deal["lines"] as? [[String: Any]] ?? []
        #expect(lines.map { $0["total"] as? [String: String] ?? [:] } == [Self.money("180.00", "EUR"), Self.money("120.00", "EUR"), Self.money("80.00", "EUR")])
        #expect(lines.map { $0["unit_price"] as? [String: String] ?? [:] } == [Self.money("100.00", "EUR"), Self.money("40.00", "EUR"), Self.money("80.00", "EUR")])
        #expect(lines.compactMap { $0["price_overridden"] as? Bool } == [false, false, true])
        #expect(lines.first?["product_code"] as? String == a["code"] as? String)

        let id = try #require(deal["id"] as? String)
        let amount = try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["amount": Self.money("5", "EUR"), "version": 2])
        #expect(amount.status == 422, "the amount comes from the lines")
        let usdOnly = try await product("Gamma", "10", "USD", tax: 0)
        let unpriced = try await api.send("PUT", "/api/v1/deals/\(id)/lines", json: ["version": 2, "lines": [["product_id": usdOnly["id"]!, "quantity": 1]]])
        #expect(unpriced.status == 422)
        #expect(unpriced.text.contains("lines[0].unit_price"), "\(unpriced.text)")
        let bad = try await api.send("PUT", "/api/v1/deals/\(id)/lines", json: [
            "version": 2, "lines": [["product_id": UUID().uuidString, "quantity": 1], ["product_id": a["id"]!, "quantity": 0]],
        ])
        let fields = Set((bad.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(fields == ["lines[0].product_id", "lines[1].quantity"], "\(bad.text)")
        #expect(try await api.send("PUT", "/api/v1/deals/\(id)/lines", json: ["version": 1, "lines": []]).status == 412)
    }

    func quoteToWon() async throws {
        let owner = try await staffUser()
        let (deal, a, b) = try await dealWithLines(owner: owner)
        let dealId = try #require(deal["id"] as? String)
        let first = try await api.send("POST", "/api/v1/deals/\(dealId)/quotes", json: ["notes": "Delivery within 2 weeks.\nPrices net of shipping."])
        #expect(first.status == 201, "\(first.text)")
        let quote = first.json
        let number = try #require(quote["number"] as? String)
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).year!
        #expect(number.wholeMatch(of: /Q-[0-9]{4}-[0-9]{5}/) != nil && number.hasPrefix("Q-\(year)-"), "\(number)")
        #expect(quote["status"] as? String == "draft")
        #expect(quote["subtotal"] as? [String: String] == Self.money("400.00", "EUR"))
        #expect(quote["discount"] as? [String: String] == Self.money("20.00", "EUR"))
        #expect(quote["tax"] as? [String: String] == Self.money("57.80", "EUR"), "180 and 80 at 19%, 120 at 7%")
        #expect(quote["total"] as? [String: String] == Self.money("437.80", "EUR"))
        let taxes = quote["taxes"] as? [[String: Any]] ?? []
        #expect(taxes.compactMap { $0["rate"] as? Double } == [7, 19])
        #expect(taxes.map { $0["tax"] as? [String: String] ?? [:] } == [Self.money("8.40", "EUR"), Self.money("49.40", "EUR")])

        let second = try await api.send("POST", "/api/v1/deals/\(dealId)/quotes", json: [:])
        let secondNumber = try #require(second.json["number"] as? String)
        #expect(Int(secondNumber.suffix(5)) == Int(number.suffix(5))! + 1, "the next number of the year")
        #expect(second.json["valid_until"] is String, "30 days unless given")

        let page = try await api.get("/api/v1/quotes/\(quote["id"]!)/html")
        #expect(page.status == 200)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(page.text.contains("Quote \(number)") && page.text.contains("437.80 EUR") && page.text.contains("Delivery within 2 weeks.<br>"))
        #expect(page.text.contains(a["code"] as! String) && page.text.contains(b["code"] as! String))

        #expect(try await api.send("POST", "/api/v1/quotes/\(quote["id"]!)/accept", json: [:]).status == 409, "a draft is sent first")
        let sent = try await api.send("POST", "/api/v1/quotes/\(quote["id"]!)/send", json: [:], headers: ["If-Match": "\"1\""])
        #expect(sent.status == 200, "\(sent.text)")
        #expect(sent.json["sent_at"] is String)
        let accepted = try await api.send("POST", "/api/v1/quotes/\(quote["id"]!)/accept", json: ["version": 2])
        #expect(accepted.status == 200, "\(accepted.text)")
        #expect(accepted.json["status"] as? String == "accepted")
        let won = try await api.get("/api/v1/deals/\(dealId)").json
        #expect(won["status"] as? String == "won")
        #expect(won["close_comment"] as? String == "quote \(number) accepted")
        #expect(try await api.send("POST", "/api/v1/quotes/\(quote["id"]!)/reject", json: [:]).status == 409)

        _ = try await api.send("POST", "/api/v1/quotes/\(second.json["id"]!)/send", json: [:])
        let rejected = try await api.send("POST", "/api/v1/quotes/\(second.json["id"]!)/reject", json: ["reason": "too dear"])
        #expect(rejected.json["status"] as? String == "rejected")
        #expect(rejected.json["reject_reason"] as? String == "too dear")
        #expect(try await api.get("/api/v1/quotes?deal_id=\(dealId)").items.compactMap { $0["status"] as? String } == ["accepted", "rejected"])

        let byProduct = try await api.get("/api/v1/reports/win-rate?by=product&owner=\(owner)")
        let rows = byProduct.json["rows"] as? [[String: Any]] ?? []
        #expect(Set(rows.compactMap { $0["key"] as? String }) == [a["code"] as! String, b["code"] as! String])
        let amounts = Dictionary(uniqueKeysWithValues: rows.map { ($0["key"] as? String ?? "", $0["won_amounts"] as? [[String: String]] ?? []) })
        #expect(amounts[a["code"] as! String] == [Self.money("260.00", "EUR")], "A's two lines")
        #expect(amounts[b["code"] as! String] == [Self.money("120.00", "EUR")])

        let bare = try await api.post("/api/v1/deals", ["title": "No lines", "amount": Self.money("1", "EUR")])
        #expect(try await api.send("POST", "/api/v1/deals/\(bare.json["id"]!)/quotes", json: [:]).status == 409)
        #expect(try await api.send("POST", "/api/v1/deals/\(dealId)/quotes", json: ["valid_until": "2020-01-01"]).status == 422)
    }

    func lostDeal() async throws {
        let (deal, _, _) = try await dealWithLines(owner: try await staffUser())
        let dealId = try #require(deal["id"] as? String)
        let draft = try await api.send("POST", "/api/v1/deals/\(dealId)/quotes", json: [:])
        let sent = try await api.send("POST", "/api/v1/deals/\(dealId)/quotes", json: [:])
        try #require(draft.status == 201 && sent.status == 201, "\(draft.text) \(sent.text)")
        #expect(try await api.send("POST", "/api/v1/quotes/\(sent.json["id"]!)/send", json: [:]).status == 200)
        let version = try #require(try await api.get("/api/v1/deals/\(dealId)").json["version"] as? Int)
        let lost = try await api.send("POST", "/api/v1/deals/\(dealId)/lost", json: ["version": version, "reason": "competitor"])
        try #require(lost.status == 200, "\(lost.text)")

        let refused = try await api.send("POST", "/api/v1/deals/\(dealId)/quotes", json: [:])
        #expect(refused.status == 409)
        #expect(refused.header("Content-Type") == "application/problem+json")
        #expect((refused.json["type"] as? String)?.hasSuffix("deal-lost") == true, "\(refused.text)")
        #expect(try await api.send("POST", "/api/v1/quotes/\(draft.json["id"]!)/send", json: [:]).status == 409)
        let accept = try await api.send("POST", "/api/v1/quotes/\(sent.json["id"]!)/accept", json: [:])
        #expect(accept.status == 409, "\(accept.text)")
        #expect(try await api.get("/api/v1/quotes/\(sent.json["id"]!)").json["status"] as? String == "sent", "unchanged")
        #expect(try await api.send("POST", "/api/v1/quotes/\(sent.json["id"]!)/reject", json: ["reason": "went elsewhere"]).status == 200,
                "a quote of a lost deal can still be rejected")

        let reopened = try await api.send("POST", "/api/v1/deals/\(dealId)/reopen", json: ["version": version + 1])
        try #require(reopened.status == 200, "\(reopened.text)")
        #expect(try await api.send("POST", "/api/v1/quotes/\(draft.json["id"]!)/send", json: [:]).status == 200)
        #expect(try await api.send("POST", "/api/v1/quotes/\(draft.json["id"]!)/accept", json: [:]).status == 200)
        #expect(try await api.get("/api/v1/deals/\(dealId)").json["status"] as? String == "won")
    }

    func expiry() async throws {
        let (deal, _, _) = try await dealWithLines(owner: try await staffUser())
        let quote = try await api.send("POST", "/api/v1/deals/\(deal["id"]!)/quotes", json: [:]).json
        let id = try #require(quote["id"] as? String)
        #expect(try await api.send("POST", "/api/v1/quotes/\(id)/send", json: [:]).status == 200)
        let (schema, client) = (service.schema, service.client)
        do {
            _ = try await client.write(
                PostgresQuery(unsafeSQL: "UPDATE \(schema.table("quotes")) SET valid_until = current_date - 1 WHERE id = '\(id)'"), logger: TestEnvironment.logger
            )
            let late = try await api.send("POST", "/api/v1/quotes/\(id)/accept", json: [:])
            #expect(late.status == 409)
            #expect(late.json["type"] as? String == "urn:switchboard:problem:quote-expired")
            #expect(try await SalesStores(.testing(schema, client)).quotes.expireLapsed() >= 1)
            #expect(try await TestEnvironment.count("SELECT count(*) FROM \(schema.table("outbox")) WHERE type = 'sales.quote.expired' AND aggregate_id = '\(id)'", client) == 1)
        }
        let expired = try await api.get("/api/v1/quotes/\(id)").json
        #expect(expired["status"] as? String == "expired")
        #expect(expired["version"] as? Int == 3)
    }
}
