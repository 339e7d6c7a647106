import Foundation
import Testing
import TestSupport

/// Deals recorded after the fact: history from the system before Switchboard, or a signature that
/// a rep records days later. The reports count them when they happened.
@Suite("Deals recorded after the fact", .timeLimit(.minutes(3)))
struct DealHistoryTests {
    @Test("a deal made with a past created_at and won at a past closed_at is counted then, with its sales cycle and stage history")
    func pastDeal() async throws {
        try await SalesChecks.run { try await $0.pastDeal() }
    }

    @Test("a created_at in the future or before 2000, a closed_at before the stay began, and a patched created_at are 422 naming the field")
    func refusedTimes() async throws {
        try await SalesChecks.run { try await $0.refusedTimes() }
    }
}

extension SalesChecks {
    func pastDeal() async throws {
        let created = try await pipeline([("Qualify", 20), ("Propose", 60)])
        let pipeline = try #require(created["id"] as? String)
        let owner = try await staffUser()
        let made = try await deal([
            "title": "Signed in spring", "pipeline_id": pipeline, "owner": owner, "created_at": "2025-03-01T10:00:00+02:00",
        ])
        #expect(made["created_at"] as? String == "2025-03-01T08:00:00.000Z")
        #expect(made["stage_entered_at"] as? String == "2025-03-01T08:00:00.000Z", "in its stage since it was made")
        let won = try await act(made, "won", ["closed_at": "2025-04-15T08:00:00Z", "comment": "signed on paper"])
        #expect(won.status == 200, "\(won.text)")
        #expect(won.json["closed_at"] as? String == "2025-04-15T08:00:00.000Z")
        #expect(won.json["status"] as? String == "won")

        let history = try await api.get("/api/v1/deals/\(made["id"]!)/history").items
        #expect(history.compactMap { $0["entered_at"] as? String } == ["2025-03-01T08:00:00.000Z"])
        #expect(history.compactMap { $0["exited_at"] as? String } == ["2025-04-15T08:00:00.000Z"])

        let april = try await api.get("/api/v1/reports/win-rate?pipeline_id=\(pipeline)&from=2025-04-01&to=2025-05-01&by=owner")
        let row = try #require((april.json["rows"] as? [[String: Any]])?.first, "\(april.text)")
        #expect(row["key"] as? String == owner)
        #expect(row["won"] as? Int == 1)
        #expect(row["average_cycle_days"] as? Double == 45, "1 March to 15 April: \(row)")
        let march = try await api.get("/api/v1/reports/funnel?pipeline_id=\(pipeline)&from=2025-03-01&to=2025-03-02")
        #expect(march.json["deals"] as? Int == 1, "made on 1 March: \(march.text)")
        #expect(try await api.get("/api/v1/reports/funnel?pipeline_id=\(pipeline)&from=2025-03-02").json["deals"] as? Int == 0)
    }

    func refusedTimes() async throws {
        for (value, reason) in [("2999-01-01T00:00:00Z", "between"), ("1999-12-31T23:59:59Z", "between"), ("yesterday", "RFC 3339")] {
            let refused = try await api.post("/api/v1/deals", ["title": "X", "amount": Self.money("1", "EUR"), "created_at": value])
            #expect(refused.status == 422 && refused.text.contains("created_at") && refused.text.contains(reason), "\(value): \(refused.text)")
        }
        let made = try await deal(["title": "Entered in May", "created_at": "2025-05-10T00:00:00Z"])
        let early = try await act(made, "lost", ["reason": "price", "closed_at": "2025-05-01T00:00:00Z"])
        #expect(early.status == 422 && early.text.contains("closed_at"), "closed before it was in its stage: \(early.text)")
        let patched = try await api.send("PATCH", "/api/v1/deals/\(made["id"]!)", json: ["created_at": "2025-01-01T00:00:00Z"], headers: ["If-Match": "\"1\""])
        #expect(patched.status == 422 && patched.text.contains("created_at"), "\(patched.text)")
        let lost = try await act(made, "lost", ["reason": "price", "closed_at": "2025-06-01T00:00:00Z"])
        #expect(lost.status == 200 && lost.json["closed_at"] as? String == "2025-06-01T00:00:00.000Z", "\(lost.text)")
    }
}
