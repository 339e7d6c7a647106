import Contracts
import Foundation
import Messaging
import Testing
import TestSupport

/// Activities and call lists through the gateway; a done call reaches the contact's timeline
/// through the contacts service.
@Suite("Activities and call lists", .timeLimit(.minutes(2)))
struct ActivitiesAPITests {
    let api = APIClient()

    func contact(_ name: String) async throws -> String {
        let created = try await api.post("/api/v1/contacts", ["last_name": name, "emails": [["address": "\(TestEnvironment.uniqueName("callee"))@example.com"]]])
        try #require(created.status == 201, "\(created.text)")
        return try #require(created.json["id"] as? String)
    }

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

    @Test("every activity fixture is an envelope from sales whose data is the activity at its version; contacts reads the completed one")
    func fixtures() throws {
        for type in SalesEvents.activityTypes {
            let envelope = try EventEnvelope.decode(Array(try Data(contentsOf: EventFixtures.url(type))))
            #expect(envelope.type == type)
            #expect(envelope.producer == "sales")
            let activity = try envelope.payload(as: LeadsAPITests.Identity.self)
            #expect(activity.id == envelope.aggregateId)
            #expect(activity.version == envelope.aggregateVersion)
        }
        let completed = try EventEnvelope.decode(Array(try Data(contentsOf: EventFixtures.url(SalesEvents.activityCompleted))))
        let activity = try completed.payload(as: CompletedActivity.self)
        #expect(activity.kind == "call" && activity.contactId != nil && activity.doneAt != nil)
    }

    @Test("an owner's calendar by due time, the overdue ones, completion once; a done call lands on the contact's timeline")
    func calendar() async throws {
        let owner = TestEnvironment.uniqueName("owner")
        let contactId = try await contact("Callee")
        let yesterday = try await api.post("/api/v1/activities", [
            "kind": "call", "subject": "Follow up on the offer", "due_at": "2026-01-10T09:00:00Z", "owner": owner, "contact_id": contactId,
            "duration_minutes": 15,
        ])
        #expect(yesterday.status == 201, "\(yesterday.text)")
        let meeting = try await api.post("/api/v1/activities", [
            "kind": "meeting", "subject": "Site visit", "due_at": "2099-03-02T14:00:00Z", "owner": owner, "duration_minutes": 90,
        ])
        let task = try await api.post("/api/v1/activities", ["kind": "task", "subject": "Send brochure", "due_at": "2099-03-01T08:00:00Z", "owner": owner])
        try #require(meeting.status == 201 && task.status == 201)
        #expect(yesterday.json["overdue"] as? Bool == true)

        let all = try await api.get("/api/v1/activities?owner=\(owner)")
        #expect(all.items.compactMap { $0["subject"] as? String } == ["Follow up on the offer", "Send brochure", "Site visit"])
        let march = try await api.get("/api/v1/activities?owner=\(owner)&from=2099-03-01T00:00:00Z&to=2099-03-02T00:00:00Z")
        #expect(march.items.compactMap { $0["subject"] as? String } == ["Send brochure"])
        let overdue = try await api.get("/api/v1/activities?owner=\(owner)&overdue=true")
        #expect(overdue.items.compactMap { $0["subject"] as? String } == ["Follow up on the offer"])

        let id = try #require(yesterday.json["id"] as? String)
        #expect(try await api.send("PATCH", "/api/v1/activities/\(id)", json: ["done": true, "version": 1]).status == 422)
        let moved = try await api.send("PATCH", "/api/v1/activities/\(id)", json: ["due_at": "2026-01-11T09:00:00Z"], headers: ["If-Match": "\"1\""])
        #expect(moved.status == 200, "\(moved.text)")
        #expect(moved.json["due_at"] as? String == "2026-01-11T09:00:00.000Z")
        let done = try await api.send("POST", "/api/v1/activities/\(id)/complete", json: ["outcome": "agreed on a trial", "version": 2])
        #expect(done.status == 200, "\(done.text)")
        #expect(done.json["done"] as? Bool == true)
        #expect(done.json["overdue"] as? Bool == false)
        #expect(try await api.send("POST", "/api/v1/activities/\(id)/complete", json: [:]).status == 409)
        #expect(try await api.get("/api/v1/activities?owner=\(owner)&overdue=true").items.isEmpty)

        let logged = try await timeline(contactId, count: 1)
        #expect(logged.first?["channel"] as? String == "phone")
        #expect(logged.first?["direction"] as? String == "outbound")
        #expect(logged.first?["subject"] as? String == "Follow up on the offer")
        #expect(logged.first?["outcome"] as? String == "agreed on a trial")
        #expect(logged.first?["recorded_by"] as? String == owner)

        _ = try await api.send("POST", "/api/v1/activities/\(task.json["id"]!)/complete", json: [:])
        let bad = try await api.post("/api/v1/activities", ["kind": "lunch", "subject": "", "due_at": "tomorrow", "deal_id": UUID().uuidString])
        #expect(bad.status == 422)
        let unknownDeal = try await api.post("/api/v1/activities", ["kind": "task", "subject": "x", "due_at": "2099-01-01T00:00:00Z", "deal_id": UUID().uuidString])
        #expect(unknownDeal.status == 422, "\(unknownDeal.text)")
        #expect(unknownDeal.text.contains("deal_id"))

        let overview = try await api.get("/api/v1/customers/\(contactId)/overview").json
        #expect((overview["activities"] as? [String: Any])?["open"] as? [[String: Any]] != nil)
    }

    @Test("a call list with a script: each call's outcome on its entry and the progress, the call an activity on the contact's timeline")
    func callList() async throws {
        let first = try await contact("Prospect One")
        let second = try await contact("Prospect Two")
        let created = try await api.post("/api/v1/call-lists", [
            "name": TestEnvironment.uniqueName("Spring campaign"), "script": "Introduce the spring offer; ask about their fleet.",
            "owner": "sam", "contact_ids": [first, second, first],
        ])
        #expect(created.status == 201, "\(created.text)")
        let listId = try #require(created.json["id"] as? String)
        #expect((created.json["progress"] as? [String: Any])?["contacts"] as? Int == 2, "each contact once")

        let bad = try await api.post("/api/v1/call-lists/\(listId)/entries/\(first)/calls", ["outcome": "maybe"])
        #expect(bad.status == 422)
        #expect(try await api.post("/api/v1/call-lists/\(listId)/entries/\(UUID().uuidString)/calls", ["outcome": "busy"]).status == 404)
        let call = try await api.post("/api/v1/call-lists/\(listId)/entries/\(first)/calls", ["outcome": "interested", "notes": "wants a quote"])
        #expect(call.status == 201, "\(call.text)")
        #expect(call.json["kind"] as? String == "call")
        #expect(call.json["done"] as? Bool == true)
        #expect(call.json["call_list_id"] as? String == listId)
        #expect(call.json["owner"] as? String == "sam")

        let list = try await api.get("/api/v1/call-lists/\(listId)").json
        let progress = try #require(list["progress"] as? [String: Any])
        #expect(progress["called"] as? Int == 1)
        #expect(progress["to_call"] as? Int == 1)
        #expect(progress["outcomes"] as? [String: Int] == ["interested": 1])
        let toCall = try await api.get("/api/v1/call-lists/\(listId)/entries?to_call=true")
        #expect(toCall.items.compactMap { $0["contact_id"] as? String } == [second])
        let entries = try await api.get("/api/v1/call-lists/\(listId)/entries").items
        #expect(entries.first?["outcome"] as? String == "interested")
        #expect(entries.first?["calls"] as? Int == 1)

        let logged = try await timeline(first, count: 1)
        #expect(logged.first?["channel"] as? String == "phone")
        #expect(logged.first?["outcome"] as? String == "interested")
        #expect(logged.first?["notes"] as? String == "wants a quote")

        let third = try await contact("Prospect Three")
        let added = try await api.post("/api/v1/call-lists/\(listId)/entries", ["contact_ids": [third, first]])
        #expect((added.json["progress"] as? [String: Any])?["contacts"] as? Int == 3)
    }
}
