import Contracts
import Foundation
import Testing
import TestSupport

/// Pipelines, deals and their outcomes, in-process. (Keys and roles are the gateway's, in
/// GatewayTests/DealsAPITests, with the deal events' golden fixtures.)
@Suite("Deals", .timeLimit(.minutes(3)))
struct DealsAPITests {
    @Test("the default pipeline exists from the start; a deal without a pipeline starts in its first stage")
    func defaultPipeline() async throws {
        try await SalesChecks.run { try await $0.defaultPipeline() }
    }

    @Test("a deal moves through stages to won, with its history; another is lost with a reason; a closed deal reopens")
    func lifecycle() async throws {
        try await SalesChecks.run { try await $0.lifecycle() }
    }

    @Test("a patch changes the deal's own fields with If-Match, refuses stage and outcome, and a probability of its own overrides the stage's")
    func patch() async throws {
        try await SalesChecks.run { try await $0.patch() }
    }

    @Test("stages are added, renamed, reordered and retired without breaking the deals in them")
    func stagesChange() async throws {
        try await SalesChecks.run { try await $0.stagesChange() }
    }

    @Test("the lost-reason catalog: reasons are added and retired, and a retired one is refused")
    func lostReasons() async throws {
        try await SalesChecks.run { try await $0.lostReasons() }
    }

    @Test("a deal whose contact was deleted can still be changed, but a deleted contact cannot be named anew")
    func deletedContact() async throws {
        try await SalesChecks.run { try await $0.deletedContact() }
    }

    @Test("deal events carry the envelope and the full deal; a merge of contacts re-points their deals to the survivor")
    func eventsAndMerge() async throws {
        try await SalesChecks.run { try await $0.eventsAndMerge() }
    }
}

extension SalesChecks {
func defaultPipeline() async throws {
        let pipelines = try await api.get("/api/v1/pipelines")
        #expect(pipelines.status == 200)
        let first = try #require(pipelines.items.first)
        #expect(first["id"] as? String == Self.defaultPipeline, "the default is listed first")
        #expect(first["is_default"] as? Bool == true)
        #expect((first["stages"] as? [[String: Any]])?.compactMap { $0["name"] as? String }.first == "Qualification")

        let created = try await deal(["title": "Default placement", "amount": ["amount": "1250.5", "currency": "EUR"]])
        #expect(created["pipeline_id"] as? String == Self.defaultPipeline)
        #expect(created["stage_name"] as? String == "Qualification")
        #expect(created["probability"] as? Int == 10, "the stage's default probability")
        #expect(created["probability_is_stage_default"] as? Bool == true)
        #expect(created["status"] as? String == "open")
        #expect((created["amount"] as? [String: Any])?["amount"] as? String == "1250.50")
        #expect(created["version"] as? Int == 1)
    }

func lifecycle() async throws {
        let stages = Self.stageIds(try await pipeline([("Lead in", 10), ("Offer", 40), ("Negotiation", 70)]))
        var won = try await deal(["title": "Big order", "stage_id": stages[0], "expected_close_date": "2026-12-31", "owner": try await staffUser("Ana")])
        #expect(won["stage_id"] as? String == stages[0])
        #expect(won["expected_close_date"] as? String == "2026-12-31")

        for (index, stage) in stages.enumerated().dropFirst() {
            let moved = try await act(won, "stage", ["stage_id": stage])
            #expect(moved.status == 200, "\(moved.text)")
            won = moved.json
            #expect(won["stage_id"] as? String == stage)
            #expect(won["probability"] as? Int == [10, 40, 70][index])
            #expect(moved.header("ETag") == "\"\(index + 1)\"")
        }
        let stale = try await api.send("POST", "/api/v1/deals/\(won["id"]!)/won", json: [:], headers: ["If-Match": "\"1\""])
        #expect(stale.status == 412)
        let unversioned = try await api.send("POST", "/api/v1/deals/\(won["id"]!)/won", json: [:])
        #expect(unversioned.status == 428)
        let closed = try await act(won, "won", ["comment": "signed"])
        #expect(closed.status == 200, "\(closed.text)")
        won = closed.json
        #expect(won["status"] as? String == "won")
        #expect(won["probability"] as? Int == 100)
        #expect(won["close_comment"] as? String == "signed")
        #expect(won["closed_at"] is String)
        let moveClosed = try await act(won, "stage", ["stage_id": stages[0]])
        #expect(moveClosed.status == 409, "a closed deal does not move")
        #expect(moveClosed.header("Content-Type") == "application/problem+json")

        let history = try await api.get("/api/v1/deals/\(won["id"]!)/history")
        #expect(history.status == 200)
        #expect(history.items.compactMap { $0["stage_id"] as? String } == stages)
        #expect(history.items.allSatisfy { $0["exited_at"] is String }, "winning ends the last stay")
        #expect(history.items.compactMap { $0["stage_name"] as? String } == ["Lead in", "Offer", "Negotiation"])

        var lost = try await deal(["title": "Lost cause", "stage_id": stages[1]])
        let unknownReason = try await act(lost, "lost", ["reason": "astrology"])
        #expect(unknownReason.status == 422)
        #expect(unknownReason.text.contains("no_budget"), "the problem lists the reasons in use: \(unknownReason.text)")
        let noReason = try await act(lost, "lost")
        #expect(noReason.status == 422)
        let lostAnswer = try await act(lost, "lost", ["reason": "competitor", "comment": "went with the incumbent"])
        #expect(lostAnswer.status == 200, "\(lostAnswer.text)")
        lost = lostAnswer.json
        #expect(lost["status"] as? String == "lost")
        #expect(lost["lost_reason"] as? String == "competitor")
        #expect(lost["probability"] as? Int == 0)

        let reopened = try await act(lost, "reopen")
        #expect(reopened.status == 200, "\(reopened.text)")
        #expect(reopened.json["status"] as? String == "open")
        #expect(reopened.json["lost_reason"] is NSNull)
        #expect(reopened.json["stage_id"] as? String == stages[1])
        #expect(reopened.json["probability"] as? Int == 40)
        let reopenOpen = try await act(reopened.json, "reopen")
        #expect(reopenOpen.status == 409)
        let stays = try await api.get("/api/v1/deals/\(lost["id"]!)/history").items
        #expect(stays.count == 2, "the stay before the loss and the one after reopening")
        #expect(stays.last?["exited_at"] is NSNull)
    }

func patch() async throws {
        let stages = Self.stageIds(try await pipeline([("First", 20), ("Second", 60)]))
        let created = try await deal(["stage_id": stages[0]])
        let id = try #require(created["id"] as? String)
        let updated = try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["title": "Renamed", "probability": 35, "amount": ["amount": "99.9"]],
                                         headers: ["If-Match": "\"1\""])
        #expect(updated.status == 200, "\(updated.text)")
        #expect(updated.json["title"] as? String == "Renamed")
        #expect(updated.json["probability"] as? Int == 35)
        #expect(updated.json["probability_is_stage_default"] as? Bool == false)
        #expect(updated.json["amount"] as? [String: String] == ["amount": "99.90", "currency": "EUR"], "a patch of the amount keeps the currency")

        let again = try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["owner": try await staffUser("Li")], headers: ["If-Match": "\"2\""])
        #expect(again.json["probability"] as? Int == 35, "a patch that does not name probability keeps the deal's own")
        let back = try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["probability": NSNull(), "version": 3])
        #expect(back.json["probability"] as? Int == 20, "null gives the stage's default back")

        #expect(try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["title": "x"], headers: ["If-Match": "\"1\""]).status == 412)
        let refused = try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["stage_id": stages[1], "status": "won", "version": 4])
        #expect(refused.status == 422)
        let fields = Set((refused.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(fields == ["stage_id", "status"])

        let invalid = try await api.post("/api/v1/deals", [
            "title": "", "amount": ["amount": "-5", "currency": "EUR"], "probability": 140, "expected_close_date": "2026-02-30",
        ])
        #expect(invalid.status == 422)
        let invalidFields = Set((invalid.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(invalidFields == ["title", "amount.amount", "probability", "expected_close_date"], "\(invalid.text)")
        let badCurrency = try await api.post("/api/v1/deals", ["title": "x", "amount": ["amount": "5", "currency": "euro"]])
        #expect(badCurrency.status == 422)
        #expect(badCurrency.text.contains("amount.currency"), "\(badCurrency.text)")
        let wrongPipeline = try await api.post("/api/v1/deals", [
            "title": "x", "amount": ["amount": "5", "currency": "EUR"], "pipeline_id": Self.defaultPipeline, "stage_id": stages[0],
        ])
        #expect(wrongPipeline.status == 422)

        #expect(try await api.send("DELETE", "/api/v1/deals/\(id)", headers: ["If-Match": "\"1\""]).status == 412)
        #expect(try await api.send("DELETE", "/api/v1/deals/\(id)").status == 204)
        #expect(try await api.get("/api/v1/deals/\(id)").status == 404)
    }

func stagesChange() async throws {
        let created = try await pipeline([("A", 10), ("B", 50)])
        let pipelineId = try #require(created["id"] as? String)
        let ab = Self.stageIds(created)
        let inB = try await deal(["stage_id": ab[1]])

        let added = try await api.post("/api/v1/pipelines/\(pipelineId)/stages", ["name": "Between", "probability": 30, "position": 2])
        #expect(added.status == 201, "\(added.text)")
        let between = try #require(Self.stageIds(added.json).dropFirst().first)
        #expect((added.json["stages"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["A", "Between", "B"])
        #expect((added.json["stages"] as? [[String: Any]])?.compactMap { $0["position"] as? Int } == [1, 2, 3])
        let duplicate = try await api.post("/api/v1/pipelines/\(pipelineId)/stages", ["name": "between", "probability": 30])
        #expect(duplicate.status == 409)

        let renamed = try await api.send("PATCH", "/api/v1/pipelines/\(pipelineId)/stages/\(ab[1])", json: ["name": "Closing", "position": 1])
        #expect(renamed.status == 200, "\(renamed.text)")
        #expect((renamed.json["stages"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["Closing", "A", "Between"])
        let afterRename = try await api.get("/api/v1/deals/\(inB["id"]!)")
        #expect(afterRename.json["stage_name"] as? String == "Closing", "the deal shows its stage's new name")
        #expect(afterRename.json["version"] as? Int == 1, "a stage change is not a change of the deal")

        let stale = try await api.send("PATCH", "/api/v1/pipelines/\(pipelineId)", json: ["name": TestEnvironment.uniqueName("renamed")],
                                       headers: ["If-Match": "\"\(created["version"] as? Int ?? 0)\""])
        #expect(stale.status == 412, "each stage change is a new version of the pipeline")
        let retired = try await api.send("DELETE", "/api/v1/pipelines/\(pipelineId)/stages/\(ab[1])")
        #expect(retired.status == 200, "\(retired.text)")
        #expect(Self.stageIds(retired.json) == [ab[0], between])
        #expect((retired.json["retired_stages"] as? [[String: Any]])?.first?["id"] as? String == ab[1])
        let kept = try await api.get("/api/v1/deals/\(inB["id"]!)")
        #expect(kept.json["stage_id"] as? String == ab[1], "a deal stays in a retired stage until moved")
        let into = try await act(try await deal(["stage_id": ab[0]]), "stage", ["stage_id": ab[1]])
        #expect(into.status == 422, "no deal enters a retired stage")
        #expect(try await api.post("/api/v1/deals", ["title": "x", "amount": ["amount": "1", "currency": "EUR"], "stage_id": ab[1]]).status == 422)
        let out = try await act(kept.json, "stage", ["stage_id": between])
        #expect(out.status == 200, "a deal leaves a retired stage")

        #expect(try await api.send("DELETE", "/api/v1/pipelines/\(pipelineId)/stages/\(ab[0])").status == 200)
        let last = try await api.send("DELETE", "/api/v1/pipelines/\(pipelineId)/stages/\(between)")
        #expect(last.status == 409, "the last active stage stays")

        let other = try await pipeline([("Only", 50)])
        let nameTaken = try await api.send("PATCH", "/api/v1/pipelines/\(other["id"]!)", json: ["name": created["name"]!, "version": 1])
        #expect(nameTaken.status == 409, "\(nameTaken.text)")
        #expect(try await api.post("/api/v1/pipelines", ["name": other["name"]!, "stages": [["name": "S", "probability": 5]]]).status == 409)
        let unset = try await api.send("PATCH", "/api/v1/pipelines/\(pipelineId)", json: ["is_default": false, "version": 1])
        #expect(unset.status == 422)

        // The default moves, and the pipeline it leaves gets a new version; then it moves back.
        let before = try await api.get("/api/v1/pipelines/\(Self.defaultPipeline)")
        let mine = try await api.get("/api/v1/pipelines/\(pipelineId)")
        let made = try await api.send("PATCH", "/api/v1/pipelines/\(pipelineId)", json: ["is_default": true],
                                      headers: ["If-Match": mine.header("ETag") ?? ""])
        #expect(made.status == 200, "\(made.text)")
        #expect(made.json["is_default"] as? Bool == true)
        let left = try await api.get("/api/v1/pipelines/\(Self.defaultPipeline)")
        #expect(left.json["is_default"] as? Bool == false)
        #expect(left.json["version"] as? Int == (before.json["version"] as? Int ?? 0) + 1)
        let back = try await api.send("PATCH", "/api/v1/pipelines/\(Self.defaultPipeline)", json: ["is_default": true],
                                      headers: ["If-Match": left.header("ETag") ?? ""])
        #expect(back.status == 200, "\(back.text)")
        let current = try await api.get("/api/v1/pipelines/\(pipelineId)")
        #expect(current.json["is_default"] as? Bool == false)
        let rename = try await api.send("PATCH", "/api/v1/pipelines/\(pipelineId)", json: ["name": TestEnvironment.uniqueName("renamed")],
                                        headers: ["If-Match": current.header("ETag") ?? ""])
        #expect(rename.status == 200, "\(rename.text)")
    }

    func lostReasons() async throws {
        let code = TestEnvironment.uniqueName("reason").lowercased().replacingOccurrences(of: "-", with: "_")
        let added = try await api.post("/api/v1/lost-reasons", ["code": code, "label": "Went quiet"])
        #expect(added.status == 201, "\(added.text)")
        #expect(try await api.post("/api/v1/lost-reasons", ["code": code, "label": "Again"]).status == 409)
        #expect(try await api.post("/api/v1/lost-reasons", ["code": "Bad Code", "label": "x"]).status == 422)
        let listed = try await api.get("/api/v1/lost-reasons")
        #expect(Set(listed.items.compactMap { $0["code"] as? String }).isSuperset(of: ["price", "competitor", "timing", "no_budget", "no_decision", "other", code]))

        let open = try await deal(["title": "Seller's", "amount": ["amount": "10", "currency": "USD"]])
        let retired = try await api.send("PATCH", "/api/v1/lost-reasons/\(code)", json: ["retired": true])
        #expect(retired.json["retired"] as? Bool == true)
        let refused = try await act(open, "lost", ["reason": code])
        #expect(refused.status == 422, "\(refused.text)")
        #expect(try await api.send("PATCH", "/api/v1/lost-reasons/no_such_reason", json: ["label": "x"]).status == 404)
    }

    func deletedContact() async throws {
        let contactId = try await contact(["last_name": "Gone"])
        let deal = try await deal(["contact_id": contactId])
        let id = try #require(deal["id"] as? String)
        try await contactDeleted(contactId)
        let refused = try await api.post("/api/v1/deals", ["title": "x", "contact_id": contactId, "amount": ["amount": "1", "currency": "EUR"]]).status == 422
        #expect(refused, "sales learned of the deletion")
        let renamed = try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["title": "Still ours", "version": 1])
        #expect(renamed.status == 200, "\(renamed.text)")
        #expect(renamed.json["contact_id"] as? String == contactId)
        let lines = try await api.send("PUT", "/api/v1/deals/\(id)/lines", json: ["version": 2, "lines": [], "currency": "EURO"])
        #expect(lines.status == 422)
        let relabel = try await api.send("PUT", "/api/v1/deals/\(id)/lines", json: ["version": 2, "lines": [], "currency": "USD"])
        #expect(relabel.status == 422, "a deal without lines keeps its amount's currency")
    }

    func eventsAndMerge() async throws {
        let survivor = try await contact(["last_name": "Keeper"])
        let merged = try await contact(["last_name": "Mergee"])
        let stages = Self.stageIds(try await pipeline([("One", 10), ("Two", 50)]))
        var dealJSON = try await deal(["title": "Merged contact's", "contact_id": merged, "stage_id": stages[0]])
        let dealId = try #require(dealJSON["id"] as? String)
        dealJSON = try await act(dealJSON, "stage", ["stage_id": stages[1]]).json
        dealJSON = try await act(dealJSON, "won").json

        try await contactsMerged(into: survivor, [merged])
        let repointed = try await api.get("/api/v1/deals/\(dealId)").json["contact_id"] as? String == survivor
        #expect(repointed, "the merge reached sales and moved the deal to the survivor")
        let later = try await deal(["title": "Names the merged id", "contact_id": merged, "stage_id": stages[0]])
        #expect(later["contact_id"] as? String == survivor, "a merged id is stored as its survivor")

        let rows = try await outbox(of: dealId)
        for row in rows { #expect(row.routingKey == row.type) }
        let events = rows.map(\.envelope)
        try #require(events.count >= 4, "got \(events.map { $0["type"] as? String ?? "?" })")
        #expect(events.compactMap { $0["type"] as? String } == [
            SalesEvents.dealCreated, SalesEvents.dealStageChanged, SalesEvents.dealWon, SalesEvents.dealUpdated,
        ])
        #expect(events.compactMap { $0["aggregate_version"] as? Int } == [1, 2, 3, 4])
        for event in events {
            let type = try #require(event["type"] as? String)
            #expect(EventFixtures.shape(event) == EventFixtures.shape(try EventFixtures.fixture(type)), "\(type) has the fixture's members")
            #expect(event["producer"] as? String == "sales")
            let data = event["data"] as? [String: Any] ?? [:]
            #expect(data["id"] as? String == dealId)
            #expect(data["version"] as? Int == event["aggregate_version"] as? Int, "the data is the deal as of the event")
        }
        let moved = events[1]["data"] as? [String: Any] ?? [:]
        #expect(moved["previous_stage_id"] as? String == stages[0])
        #expect(moved["stage_id"] as? String == stages[1])
        #expect((events[3]["data"] as? [String: Any])?["contact_id"] as? String == survivor)
    }
}
