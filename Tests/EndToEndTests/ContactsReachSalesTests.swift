import Foundation
import Testing
import TestSupport

/// Sales' replica of the contacts is made of contacts' events alone; SalesTests feed those events
/// to sales' handlers directly, so this is the one test of the whole way: the contacts service,
/// its outbox and relay, the broker, and sales' consumer.
@Suite("Contacts' changes reach sales", .timeLimit(.minutes(2)))
struct ContactsReachSalesTests {
    let api = APIClient()

    func deal(for contact: String) async throws -> (status: Int, contactId: String?, id: String?) {
        let answer = try await api.post("/api/v1/deals", ["title": "Replica check", "contact_id": contact, "amount": ["amount": "1", "currency": "EUR"]])
        return (answer.status, answer.json["contact_id"] as? String, answer.json["id"] as? String)
    }

    @Test("a merge re-points the merged contact's deals to the survivor, and a deleted contact takes no new deal")
    func mergeAndDelete() async throws {
        let survivor = try await api.newContact("Keeper")
        let merged = try await api.newContact("Mergee")
        let dealId = try #require(try await deal(for: merged).id)

        let merge = try await api.post("/api/v1/contacts/merge", ["survivor_id": survivor, "merged_ids": [merged]])
        #expect(merge.status == 200, "\(merge.text)")
        let repointed = try await TestEnvironment.eventually(timeout: .seconds(20)) {
            try await api.get("/api/v1/deals/\(dealId)").json["contact_id"] as? String == survivor
        }
        #expect(repointed, "the merge reached sales and moved the deal to the survivor")
        #expect(try await deal(for: merged).contactId == survivor, "a merged id is stored as its survivor")

        #expect(try await api.send("DELETE", "/api/v1/contacts/\(survivor)").status == 204)
        let refused = try await TestEnvironment.eventually(timeout: .seconds(20)) { try await deal(for: survivor).status == 422 }
        #expect(refused, "the deletion reached sales")
    }
}
