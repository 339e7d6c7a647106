import Contracts
import Foundation
import Testing
import TestSupport

/// Activities and call lists, in-process. A done call is a `sales.activity.completed` event, which
/// the contacts service logs on the contact's timeline: that journey is in
/// GatewayTests/ActivitiesAPITests; here, the event it starts from.
@Suite("Activities and call lists", .timeLimit(.minutes(2)))
struct ActivitiesAPITests {
    @Test("an owner's calendar by due time, the overdue ones, completion once; a done call is an event with what the contact's timeline shows")
    func calendar() async throws {
        try await SalesChecks.run { try await $0.calendar() }
    }

    @Test("a call list with a script: each call's outcome on its entry and the progress, the call a done activity with its event")
    func callList() async throws {
        try await SalesChecks.run { try await $0.callList() }
    }
}

extension SalesChecks {
    /// The data of the activity's `sales.activity.completed` event.
    func completion(of activity: String) async throws -> [String: Any] {
        let rows = try await outbox(of: activity)
        let completed = try #require(rows.first { $0.type == SalesEvents.activityCompleted }, "\(rows.compactMap(\.type))")
        #expect(completed.routingKey == completed.type)
        return completed.data
    }

    func calendar() async throws {
        let owner = try await staffUser()
        let contactId = try await contact(["last_name": "Callee"])
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

        // What the contacts service makes the timeline's entry of (a call by phone, recorded by its owner).
        let logged = try await completion(of: id)
        #expect(logged["kind"] as? String == "call")
        #expect(logged["contact_id"] as? String == contactId)
        #expect(logged["subject"] as? String == "Follow up on the offer")
        #expect(logged["outcome"] as? String == "agreed on a trial")
        #expect(logged["owner"] as? String == owner)
        #expect(logged["done_at"] is String)

        _ = try await api.send("POST", "/api/v1/activities/\(task.json["id"]!)/complete", json: [:])
        let bad = try await api.post("/api/v1/activities", ["kind": "lunch", "subject": "", "due_at": "tomorrow", "deal_id": UUID().uuidString])
        #expect(bad.status == 422)
        let unknownDeal = try await api.post("/api/v1/activities", ["kind": "task", "subject": "x", "due_at": "2099-01-01T00:00:00Z", "deal_id": UUID().uuidString])
        #expect(unknownDeal.status == 422, "\(unknownDeal.text)")
        #expect(unknownDeal.text.contains("deal_id"))
    }

    func callList() async throws {
        let first = try await contact(["last_name": "Prospect One"])
        let second = try await contact(["last_name": "Prospect Two"])
        let sam = try await staffUser("Sam")
        let created = try await api.post("/api/v1/call-lists", [
            "name": TestEnvironment.uniqueName("Spring campaign"), "script": "Introduce the spring offer; ask about their fleet.",
            "owner": sam, "contact_ids": [first, second, first],
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
        #expect(call.json["owner"] as? String == sam, "the list's owner made the call")

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

        let logged = try await completion(of: try #require(call.json["id"] as? String))
        #expect(logged["kind"] as? String == "call")
        #expect(logged["contact_id"] as? String == first)
        #expect(logged["outcome"] as? String == "interested")
        #expect(logged["notes"] as? String == "wants a quote")

        let third = try await contact(["last_name": "Prospect Three"])
        let added = try await api.post("/api/v1/call-lists/\(listId)/entries", ["contact_ids": [third, first]])
        #expect((added.json["progress"] as? [String: Any])?["contacts"] as? Int == 3)
    }
}
