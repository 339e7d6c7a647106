import Contracts
import Foundation
import Messaging
import Testing
import TestSupport

/// A done call across services: the contacts service logs it on the contact's timeline from
/// sales' event, and the gateway's customer overview shows the contact's activities. The
/// activities API itself is tested in-process (SalesTests/ActivitiesAPITests), the fixtures in
/// ContractsTests.
@Suite("Activities across services", .timeLimit(.minutes(2)))
struct ActivitiesAcrossServicesTests {
    let api = APIClient()

    /// The contact's timeline once it holds `count` interactions.
    func timeline(_ contactId: String, count: Int) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        let arrived = try await TestEnvironment.eventually(timeout: .seconds(15)) {
            items = try await api.get("/api/v1/contacts/\(contactId)/interactions").items
            return items.count >= count
        }
        try #require(arrived, "the contacts service logged the call: \(items)")
        return items
    }

    @Test("a done call lands on the contact's timeline, by phone, outbound, recorded by its owner; the customer overview lists the contact's activities")
    func doneCall() async throws {
        let owner = try #require(try await api.newStaffUser(name: "Caller")["id"] as? String)
        let contactId = try await api.newContact("Callee")
        let call = try await api.post("/api/v1/activities", [
            "kind": "call", "subject": "Follow up on the offer", "due_at": "2026-01-10T09:00:00Z", "owner": owner, "contact_id": contactId,
        ])
        let id = try #require(call.json["id"] as? String, "\(call.text)")
        let done = try await api.send("POST", "/api/v1/activities/\(id)/complete", json: ["outcome": "agreed on a trial", "version": 1])
        try #require(done.status == 200, "\(done.text)")

        let logged = try await timeline(contactId, count: 1)
        #expect(logged.first?["channel"] as? String == "phone")
        #expect(logged.first?["direction"] as? String == "outbound")
        #expect(logged.first?["subject"] as? String == "Follow up on the offer")
        #expect(logged.first?["outcome"] as? String == "agreed on a trial")
        #expect(logged.first?["recorded_by"] as? String == owner)

        let overview = try await api.get("/api/v1/customers/\(contactId)/overview").json
        #expect((overview["activities"] as? [String: Any])?["open"] as? [[String: Any]] != nil)
    }

    @Test("a call made from a call list lands on the contact's timeline with its outcome and notes")
    func callListCall() async throws {
        let first = try await api.newContact("Prospect One")
        let sam = try #require(try await api.newStaffUser(name: "Sam")["id"] as? String)
        let created = try await api.post("/api/v1/call-lists", ["name": TestEnvironment.uniqueName("Spring campaign"), "owner": sam, "contact_ids": [first]])
        let listId = try #require(created.json["id"] as? String, "\(created.text)")
        let call = try await api.post("/api/v1/call-lists/\(listId)/entries/\(first)/calls", ["outcome": "interested", "notes": "wants a quote"])
        try #require(call.status == 201, "\(call.text)")

        let logged = try await timeline(first, count: 1)
        #expect(logged.first?["channel"] as? String == "phone")
        #expect(logged.first?["outcome"] as? String == "interested")
        #expect(logged.first?["notes"] as? String == "wants a quote")
        #expect(logged.first?["recorded_by"] as? String == sam, "the list's owner made the call")
    }
}
