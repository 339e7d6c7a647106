import Foundation
import Testing
import TestSupport

/// The customer overview through the running gateway, with every service up.
@Suite("Customer overview", .timeLimit(.minutes(2)))
struct OverviewTests {
    let api = APIClient()

    @Test("the contact, its account, its latest interactions and its deals with their totals, every source ok")
    func whole() async throws {
        let account = try await api.post("/api/v1/accounts", ["name": TestEnvironment.uniqueName("Overview Ltd")])
        let accountId = try #require(account.json["id"] as? String)
        let contact = try await api.post("/api/v1/contacts", [
            "last_name": "Overviewed", "account_id": accountId, "emails": [["address": "\(TestEnvironment.uniqueName("ov"))@example.com"]],
        ])
        let contactId = try #require(contact.json["id"] as? String)
        for subject in ["first call", "second call"] {
            let logged = try await api.post("/api/v1/contacts/\(contactId)/interactions", [
                "channel": "phone", "direction": "outbound", "subject": subject, "occurred_at": "2026-11-0\(subject == "first call" ? 1 : 2)T10:00:00Z",
            ])
            try #require(logged.status == 201, "\(logged.text)")
        }
        let open = try await api.post("/api/v1/deals", ["title": "Open one", "contact_id": contactId, "amount": ["amount": "1000", "currency": "EUR"]])
        let won = try await api.post("/api/v1/deals", ["title": "Won one", "contact_id": contactId, "amount": ["amount": "250.5", "currency": "EUR"]])
        let wonId = try #require(won.json["id"] as? String)
        #expect(try await api.send("POST", "/api/v1/deals/\(wonId)/won", json: ["version": 1]).status == 200)
        try #require(open.status == 201)

        let answer = try await api.get("/api/v1/customers/\(contactId)/overview")
        #expect(answer.status == 200, "\(answer.text)")
        let overview = answer.json
        #expect((overview["contact"] as? [String: Any])?["id"] as? String == contactId)
        #expect((overview["account"] as? [String: Any])?["id"] as? String == accountId)
        #expect((overview["interactions"] as? [[String: Any]])?.compactMap { $0["subject"] as? String } == ["second call", "first call"])
        let deals = try #require(overview["deals"] as? [String: Any])
        #expect((deals["open"] as? [[String: Any]])?.compactMap { $0["title"] as? String } == ["Open one"])
        #expect((deals["closed"] as? [[String: Any]])?.compactMap { $0["title"] as? String } == ["Won one"])
        #expect((deals["open"] as? [[String: Any]])?.first?["version"] as? Int == 1, "a deal as sales answered it")
        #expect(deals["open_amounts"] as? [[String: String]] == [["amount": "1000.00", "currency": "EUR"]])
        #expect(deals["won_amounts"] as? [[String: String]] == [["amount": "250.50", "currency": "EUR"]])
        #expect(overview["sources"] as? [String: [String: String]] == ["contacts": ["status": "ok"], "sales": ["status": "ok"]])

        let missing = try await api.get("/api/v1/customers/\(UUID().uuidString.lowercased())/overview")
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type") == "application/problem+json")
        #expect(try await APIClient(key: nil).get("/api/v1/customers/\(contactId)/overview").status == 401)
    }
}
