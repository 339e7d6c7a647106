import Foundation
import Testing
import TestSupport

/// The pages of a rep's daily work against the running suite: working a call list, merging
/// duplicates, the search box's deals and the home page's recent interactions.
@Suite("Web pages of daily work", .timeLimit(.minutes(3)))
struct WebWorkTests {
    let api = APIClient()
    static let password = "a long enough secret 42"

    func signedIn(_ name: String) async throws -> (browser: WebClient, id: String) {
        let rep = try await api.newUser(role: "sales", password: Self.password, name: name)
        let browser = WebClient()
        try await browser.signIn(try #require(rep["email"] as? String), Self.password)
        return (browser, try #require(rep["id"] as? String))
    }

    @Test("the call-list screen shows the next contact with tel: links; an outcome button records the call and moves on")
    func callList() async throws {
        let (browser, me) = try await signedIn("List Caller")
        // A number of its own: the contacts service refuses a second contact with a known number.
        let digits = String(UInt32.random(in: 1_000_000...9_999_999))
        let first = try await api.post("/api/v1/contacts", [
            "first_name": "Cal", "last_name": "First", "phones": [["number": "+49 30 \(digits)", "kind": "work"]],
            "emails": [["address": "\(TestEnvironment.uniqueName("cal"))@example.com"]],
        ])
        let second = try await api.newContact("Second")
        let firstId = try #require(first.json["id"] as? String, "\(first.text)")
        let list = try await api.post("/api/v1/call-lists", [
            "name": "Web list \(UUID().uuidString.prefix(6))", "script": "Say hello.", "owner": me, "contact_ids": [firstId, second],
        ])
        #expect(list.status == 201, "\(list.text)")
        let id = try #require(list.json["id"] as? String)
        let screen = try await browser.get("/call-lists/\(id)")
        #expect(screen.status == 200)
        #expect(screen.text.contains("href=\"tel:+4930\(digits)\""), "the number is a tel: link")
        #expect(screen.text.contains("Say hello.") && screen.text.contains("0 of 2"))
        let called = try await browser.post(
            "/call-lists/\(id)/calls/\(firstId)", [("outcome", "callback"), ("notes", "after lunch")], csrf: try await browser.csrf(on: "/call-lists/\(id)")
        )
        #expect(called.status == 303)
        let entry = try #require(try await api.get("/api/v1/call-lists/\(id)/entries").items.first { $0["contact_id"] as? String == firstId })
        #expect(entry["outcome"] as? String == "callback")
        #expect(entry["called_by"] as? String == me)
        let next = try await browser.get("/call-lists/\(id)")
        #expect(next.text.contains("1 of 2"))
        #expect(next.text.contains("/call-lists/\(id)/calls/\(second)"), "the next contact is the second")
        let refused = try await browser.post(
            "/call-lists/\(id)/calls/\(second)", [("outcome", "teleported")], csrf: try await browser.csrf(on: "/call-lists/\(id)")
        )
        #expect(refused.status == 422)
        #expect(refused.text.contains("outcome"), "the refusal names the field")
    }

    @Test("the leads page lists the work still to do, newest first, across pages; converting one in dollars makes the owner's deal in dollars")
    func leads() async throws {
        let (browser, me) = try await signedIn("Lead Worker")
        func lead(_ name: String) async throws -> [String: Any] {
            let made = try await api.post("/api/v1/leads", ["last_name": name, "company": "\(name) GmbH", "owner": me])
            try #require(made.status == 201, "\(made.text)")
            return made.json
        }
        let settled = try await lead("Settled \(UUID().uuidString.prefix(6))")
        #expect(try await api.act(on: "/api/v1/leads", settled, "disqualify", ["reason": "no budget"]).status == 200)
        let open = try await api.act(on: "/api/v1/leads", try await lead("Open \(UUID().uuidString.prefix(6))"), "qualify").json
        let page = try await browser.get("/leads?owner=\(me)")
        #expect(page.text.contains(open["last_name"] as! String), "the qualified lead is listed")
        #expect(!page.text.contains(settled["last_name"] as! String), "a disqualified lead is not work to do")
        let id = try #require(open["id"] as? String)
        let converted = try await browser.post(
            "/leads/\(id)/convert", [("version", "\(open["version"]!)"), ("amount", "900"), ("currency", "usd")], csrf: try await browser.csrf(on: "/leads")
        )
        #expect(converted.status == 303, "\(converted.text)")
        let dealId = try #require(try await api.get("/api/v1/leads/\(id)").json["deal_id"] as? String)
        let deal = try await api.get("/api/v1/deals/\(dealId)").json
        #expect(deal["amount"] as? [String: String] == ["amount": "900.00", "currency": "USD"])
        #expect(deal["owner"] as? String == me, "the lead's owner owns its deal")
    }

    @Test("merging from the duplicates page keeps the chosen contact and moves the other's timeline to it")
    func merge() async throws {
        let (browser, _) = try await signedIn("Merger")
        let email = "\(TestEnvironment.uniqueName("twin"))@example.com"
        let keep = try #require(try await api.post("/api/v1/contacts", ["last_name": "Twin", "emails": [["address": email]]]).json["id"] as? String)
        let gone = try #require(try await api.post("/api/v1/contacts", [
            "last_name": "Twin", "emails": [["address": email]], "allow_duplicate": true,
        ]).json["id"] as? String)
        #expect(try await api.post("/api/v1/contacts/\(gone)/interactions", ["channel": "email", "direction": "inbound", "subject": "Twin mail"]).status == 201)
        let page = try await browser.get("/contacts/duplicates")
        #expect(page.status == 200)
        let nothing = try await browser.post("/contacts/merge", [("survivor_id", keep)], csrf: try await browser.csrf(on: "/contacts/duplicates"))
        #expect(nothing.status == 422)
        let merged = try await browser.post(
            "/contacts/merge", [("survivor_id", keep), ("merged_ids", gone), ("merged_ids", keep)], csrf: try await browser.csrf(on: "/contacts/duplicates")
        )
        #expect(merged.status == 303)
        #expect(merged.header("location") == "/contacts/\(keep)")
        #expect(try await api.get("/api/v1/contacts/\(keep)/interactions").items.contains { $0["subject"] as? String == "Twin mail" })
        #expect(try await browser.get("/contacts/\(keep)").text.contains("Twin mail"))
    }

    @Test("the search box finds open deals by title; home lists the interactions I logged, newest first, with the contact")
    func searchAndHome() async throws {
        let (browser, me) = try await signedIn("Searcher")
        let word = "Zeppelin\(UUID().uuidString.prefix(6))"
        let deal = try await api.post("/api/v1/deals", ["title": "Hangar for \(word)", "amount": ["amount": "100", "currency": "EUR"], "owner": me])
        #expect(deal.status == 201)
        let found = try await browser.get("/search.json?q=\(word.lowercased())")
        #expect(found.text.contains("Hangar for \(word)") && found.text.contains("\"kind\":\"Deal\""), "\(found.text)")
        let contact = try await api.newContact("Homebody")
        for subject in ["older call", "newer call"] {
            let logged = try await browser.post(
                "/contacts/\(contact)/interactions", [("channel", "phone"), ("direction", "outbound"), ("subject", subject)],
                csrf: try await browser.csrf(on: "/contacts/\(contact)")
            )
            #expect(logged.status == 303)
        }
        let home = try await browser.get("/home").text
        let recent = try #require(home.range(of: "id=\"recent\"").map { String(home[$0.upperBound...]) })
        let newer = try #require(recent.range(of: "newer call")), older = try #require(recent.range(of: "older call"))
        #expect(newer.lowerBound < older.lowerBound, "newest first")
        #expect(recent.contains("/contacts/\(contact)") && recent.contains("Homebody"))
        let api400 = try await api.get("/api/v1/interactions")
        #expect(api400.status == 400 && api400.text.contains("recorded_by"))
    }

    @Test("on the deal's page a line is added and removed, a quote made of the lines, sent, and accepted, which wins the deal")
    func linesAndQuotes() async throws {
        let (browser, me) = try await signedIn("Quoter")
        let code = "WEB-\(UUID().uuidString.prefix(8))"
        let product = try await api.post("/api/v1/products", ["code": code, "name": "Web widget", "base_price": ["amount": "12.50", "currency": "EUR"]])
        let productId = try #require(product.json["id"] as? String, "\(product.text)")
        let contact = try await api.newContact("Quoted")
        let deal = try await api.post("/api/v1/deals", [
            "title": "Quoted deal", "amount": ["amount": "100", "currency": "EUR"], "owner": me, "contact_id": contact,
        ])
        let id = try #require(deal.json["id"] as? String)
        func version() async throws -> String { "\(try await api.get("/api/v1/deals/\(id)").json["version"] ?? 0)" }
        let path = "/deals/\(id)"
        let bad = try await browser.post("\(path)/lines", [("product_id", productId), ("quantity", "-2"), ("version", try await version())], csrf: try await browser.csrf(on: path))
        #expect(bad.status == 409 && bad.text.contains("quantity"), "the refusal names the field")
        for quantity in ["4", "1"] {
            let added = try await browser.post(
                "\(path)/lines", [("product_id", productId), ("quantity", quantity), ("version", try await version())], csrf: try await browser.csrf(on: path)
            )
            #expect(added.status == 303)
        }
        let removed = try await browser.post("\(path)/lines", [("remove", "1"), ("version", try await version())], csrf: try await browser.csrf(on: path))
        #expect(removed.status == 303)
        let lines = try await api.get("/api/v1/deals/\(id)").json["lines"] as? [[String: Any]] ?? []
        #expect(lines.count == 1 && (lines.first?["quantity"] as? NSNumber)?.intValue == 4, "\(lines)")
        #expect(try await browser.post("\(path)/quotes", [("notes", "Web quote")], csrf: try await browser.csrf(on: path)).status == 303)
        let quote = try #require(try await api.get("/api/v1/quotes?deal_id=\(id)").items.first)
        let quoteId = try #require(quote["id"] as? String)
        #expect(quote["status"] as? String == "draft")
        for action in ["send", "accept"] {
            let current = try await api.get("/api/v1/quotes/\(quoteId)").json
            let done = try await browser.post(
                "/quotes/\(quoteId)/\(action)", [("deal_id", id), ("version", "\(current["version"] ?? 0)")], csrf: try await browser.csrf(on: path)
            )
            #expect(done.status == 303, "\(action): \(done.text.prefix(300))")
        }
        #expect(try await api.get("/api/v1/quotes/\(quoteId)").json["status"] as? String == "accepted")
        #expect(try await api.get("/api/v1/deals/\(id)").json["status"] as? String == "won")
        #expect(try await browser.get(path).text.contains("accepted"))
    }
}
