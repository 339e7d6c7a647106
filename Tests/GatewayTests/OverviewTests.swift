import Foundation
import NIOCore
import Testing
import TestSupport

@testable import GatewayService

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
        #expect(overview["sources"] as? [String: [String: String]] == ["contacts": ["status": "ok"], "sales": ["status": "ok"], "erp_bridge": ["status": "ok"]])
        #expect(overview["orders"] as? [Any] != nil && overview["open_alerts"] as? Int == 0, "no orders yet: an empty list")

        // A second currency and a lost deal: amounts are summed per currency, lost ones in neither.
        let dollars = try await api.post("/api/v1/deals", ["title": "Dollars", "contact_id": contactId, "amount": ["amount": "99.999", "currency": "USD"]])
        try #require(dollars.status == 201, "\(dollars.text)")
        let lost = try await api.post("/api/v1/deals", ["title": "Lost one", "contact_id": contactId, "amount": ["amount": "7", "currency": "EUR"]])
        try #require(lost.status == 201, "\(lost.text)")
        let lostId = try #require(lost.json["id"] as? String)
        let lostAnswer = try await api.send("POST", "/api/v1/deals/\(lostId)/lost", json: ["version": 1, "reason": "price"])
        try #require(lostAnswer.status == 200, "\(lostAnswer.text)")

        // The merged contact's overview is its survivor's, with the deals sales moved to it.
        let mergee = try await api.post("/api/v1/contacts", [
            "last_name": "Merged away", "emails": [["address": "\(TestEnvironment.uniqueName("ovm"))@example.com"]],
        ])
        let mergeeId = try #require(mergee.json["id"] as? String)
        let moved = try await api.post("/api/v1/deals", ["title": "Moved one", "contact_id": mergeeId, "amount": ["amount": "0.5", "currency": "EUR"]])
        let movedId = try #require(moved.json["id"] as? String)
        let merge = try await api.post("/api/v1/contacts/merge", ["survivor_id": contactId, "merged_ids": [mergeeId]])
        try #require(merge.status == 200, "\(merge.text)")
        let repointed = try await TestEnvironment.eventually(timeout: .seconds(20)) {
            try await api.get("/api/v1/deals/\(movedId)").json["contact_id"] as? String == contactId
        }
        try #require(repointed, "the merge reached sales")

        let merged = try await api.get("/api/v1/customers/\(mergeeId)/overview")
        #expect(merged.status == 200, "\(merged.text)")
        #expect((merged.json["contact"] as? [String: Any])?["id"] as? String == contactId, "the survivor")
        let all = try #require(merged.json["deals"] as? [String: Any])
        #expect((all["open"] as? [[String: Any]])?.compactMap { $0["title"] as? String } == ["Open one", "Dollars", "Moved one"])
        #expect((all["closed"] as? [[String: Any]])?.compactMap { $0["title"] as? String } == ["Won one", "Lost one"])
        #expect(all["open_amounts"] as? [[String: String]] == [["amount": "1000.50", "currency": "EUR"], ["amount": "99.999", "currency": "USD"]])
        #expect(all["won_amounts"] as? [[String: String]] == [["amount": "250.50", "currency": "EUR"]])
        #expect(all["truncated"] == nil)
        #expect((merged.json["activities"] as? [String: Any])?["open"] as? [Any] != nil)

        let missing = try await api.get("/api/v1/customers/\(UUID().uuidString.lowercased())/overview")
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type") == "application/problem+json")
        #expect(try await APIClient(key: nil).get("/api/v1/customers/\(contactId)/overview").status == 401)
    }
}

@Suite("Overview splicing")
struct OverviewSplicingTests {
    func members(_ text: String) -> String? {
        CustomerOverview.members(of: ByteBuffer(string: text)).map { String(buffer: $0) }
    }

    @Test("a service's object gives its members; an empty object or anything not braced gives none")
    func members() {
        #expect(members(#" {"a":1,"b":[{}]}"# + "\n") == #""a":1,"b":[{}]"#)
        #expect(members("{ }") == nil, "an empty object has none of the part's members")
        #expect(members("{}") == nil)
        #expect(members("[1]") == nil)
        #expect(members("{") == nil)
        #expect(members("") == nil)
        #expect(members("<html></html>") == nil)
    }
}
