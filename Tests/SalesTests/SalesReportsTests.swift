import Foundation
import Testing
import TestSupport

/// The sales reports on a known set of deals, in-process: the figures are exact because the
/// schema holds nothing else (the pipeline and owners are still the test's own).
@Suite("Sales reports", .timeLimit(.minutes(2)))
struct SalesReportsTests {
    @Test("funnel, forecast, win rate and lost reasons give the exact figures of a known set of deals")
    func exactFigures() async throws {
        try await SalesChecks.run { try await $0.exactFigures() }
    }

    @Test("the counts behind the funnel and forecast follow every change of a deal: moves, amounts, probability, reopening, deletion")
    func countsFollowChanges() async throws {
        try await SalesChecks.run { try await $0.countsFollowChanges() }
    }
}

extension SalesChecks {
    struct Book {
        var pipeline: String
        var stages: [String]
        var owners: (String, String)
        var region: String
    }

    /// Six deals in three stages (10%, 50%, 80%):
    /// - D1 1000 EUR, o1, contact in `region`: S1 → S2 → S3 → won
    /// - D2 2000 EUR, o1, contact in `region`: S1 → S2 → lost (price)
    /// - D3 500 EUR, o1, expected 2027-01-15: stays in S1
    /// - D4 3000 EUR, o2, expected 2027-01-20, probability 90: S1 → S3, skipping S2
    /// - D5 400 EUR, o2: S1 → lost (competitor)
    /// - D6 100 USD, o1, expected 2027-02-01: created in S2
    func book() async throws -> Book {
        let created = try await pipeline([("S1", 10), ("S2", 50), ("S3", 80)])
        let pipeline = try #require(created["id"] as? String)
        let stages = Self.stageIds(created)
        // Reports order owners by their ids: the first in that order is owners.0.
        let ids = [try await staffUser("First Owner"), try await staffUser("Second Owner")].sorted()
        let owners = (ids[0], ids[1])
        let region = TestEnvironment.uniqueName("region")
        let contactId = try await contact(["last_name": "Buyer", "address": ["region": region, "country": "DE"], "lead_source": "referral"])

        func deal(_ amount: String, _ currency: String, owner: String, stage: Int, _ extra: [String: Any] = [:]) async throws -> [String: Any] {
            try await self.deal([
                "title": "Report deal", "amount": ["amount": amount, "currency": currency], "owner": owner, "stage_id": stages[stage],
            ].merging(extra) { $1 })
        }
        func act(_ deal: [String: Any], _ action: String, _ body: [String: Any] = [:]) async throws -> [String: Any] {
            let answer = try await self.act(deal, action, body)
            try #require(answer.status == 200, "\(answer.text)")
            return answer.json
        }
        var d1 = try await deal("1000", "EUR", owner: owners.0, stage: 0, ["contact_id": contactId])
        for stage in stages.dropFirst() { d1 = try await act(d1, "stage", ["stage_id": stage]) }
        _ = try await act(d1, "won")
        let d2 = try await act(try await deal("2000", "EUR", owner: owners.0, stage: 0, ["contact_id": contactId]), "stage", ["stage_id": stages[1]])
        _ = try await act(d2, "lost", ["reason": "price"])
        _ = try await deal("500", "EUR", owner: owners.0, stage: 0, ["expected_close_date": "2027-01-15"])
        let d4 = try await deal("3000", "EUR", owner: owners.1, stage: 0, ["expected_close_date": "2027-01-20", "probability": 90])
        _ = try await act(d4, "stage", ["stage_id": stages[2]])
        _ = try await act(try await deal("400", "EUR", owner: owners.1, stage: 0), "lost", ["reason": "competitor"])
        _ = try await deal("100", "USD", owner: owners.0, stage: 1, ["expected_close_date": "2027-02-01"])
        return Book(pipeline: pipeline, stages: stages, owners: owners, region: region)
    }

    func exactFigures() async throws {
        let book = try await book()

        let funnel = try await api.get("/api/v1/reports/funnel?pipeline_id=\(book.pipeline)")
        #expect(funnel.status == 200, "\(funnel.text)")
        #expect(funnel.json["deals"] as? Int == 6)
        #expect(funnel.json["open"] as? Int == 3)
        #expect(funnel.json["won"] as? Int == 1)
        #expect(funnel.json["lost"] as? Int == 2)
        let stages = funnel.json["stages"] as? [[String: Any]] ?? []
        #expect(stages.compactMap { $0["stage_id"] as? String } == book.stages)
        #expect(stages.compactMap { $0["reached"] as? Int } == [6, 4, 2], "S1 all; S2 D1 D2 D4 D6 (D4 skipped it, but went past); S3 D1 D4")
        #expect(stages.compactMap { $0["conversion_to_next"] as? Double } == [0.6667, 0.5, 0.5], "the last converts to won: 1 of 2")
        #expect(stages.compactMap { ($0["open"] as? [String: Any])?["count"] as? Int } == [1, 1, 1])
        #expect(stages.map { ($0["open"] as? [String: Any])?["amounts"] as? [[String: String]] ?? [] } == [
            [Self.money("500.00", "EUR")], [Self.money("100.00", "USD")], [Self.money("3000.00", "EUR")],
        ])
        // The same funnel from the deals themselves (a range with a time of day) and from the counts
        // the trigger keeps (whole days, no owner) must agree.
        let fromDeals = try await api.get("/api/v1/reports/funnel?pipeline_id=\(book.pipeline)&from=2000-01-01T00:00:01Z")
        #expect(NSDictionary(dictionary: fromDeals.json).isEqual(to: funnel.json), "\(fromDeals.text) vs \(funnel.text)")
        let o1 = try await api.get("/api/v1/reports/funnel?pipeline_id=\(book.pipeline)&owner=\(book.owners.0)")
        #expect((o1.json["stages"] as? [[String: Any]])?.compactMap { $0["reached"] as? Int } == [4, 3, 1], "D1 D2 D3 D6")
        #expect((o1.json["stages"] as? [[String: Any]])?.compactMap { $0["conversion_to_next"] as? Double } == [0.75, 0.3333, 1])
        let empty = try await api.get("/api/v1/reports/funnel?pipeline_id=\(book.pipeline)&to=2000-01-01")
        #expect(empty.json["deals"] as? Int == 0, "the range is on the deals' creation")
        #expect((empty.json["stages"] as? [[String: Any]])?.compactMap { $0["reached"] as? Int } == [0, 0, 0])

        let forecast = try await api.get("/api/v1/reports/forecast?pipeline_id=\(book.pipeline)")
        #expect(forecast.status == 200, "\(forecast.text)")
        let rows = forecast.json["rows"] as? [[String: Any]] ?? []
        #expect(rows.compactMap { $0["month"] as? String } == ["2027-01", "2027-01", "2027-02"])
        #expect(rows.compactMap { $0["owner"] as? String } == [book.owners.0, book.owners.1, book.owners.0])
        #expect(rows.map { $0["amount"] as? [String: String] ?? [:] } == [
            Self.money("500.00", "EUR"), Self.money("3000.00", "EUR"), Self.money("100.00", "USD"),
        ])
        #expect(rows.map { $0["weighted"] as? [String: String] ?? [:] } == [
            Self.money("50.00", "EUR"), Self.money("2700.00", "EUR"), Self.money("50.00", "USD"),
        ], "500 × 10% (S1), 3000 × 90% (the deal's own), 100 × 50% (S2)")
        let totals = forecast.json["totals"] as? [[String: Any]] ?? []
        #expect(totals.compactMap { $0["weighted"] as? String } == ["2750.00", "50.00"])
        #expect(totals.compactMap { $0["currency"] as? String } == ["EUR", "USD"])
        let february = try await api.get("/api/v1/reports/forecast?pipeline_id=\(book.pipeline)&from=2027-02-01&to=2027-03-01")
        #expect((february.json["rows"] as? [[String: Any]])?.count == 1)

        let byOwner = try await api.get("/api/v1/reports/win-rate?pipeline_id=\(book.pipeline)")
        #expect(byOwner.status == 200, "\(byOwner.text)")
        let owners = byOwner.json["rows"] as? [[String: Any]] ?? []
        #expect(owners.compactMap { $0["key"] as? String } == [book.owners.0, book.owners.1])
        #expect(owners.compactMap { $0["won"] as? Int } == [1, 0])
        #expect(owners.compactMap { $0["lost"] as? Int } == [1, 1])
        #expect(owners.compactMap { $0["win_rate"] as? Double } == [0.5, 0])
        #expect(owners.first?["won_amounts"] as? [[String: String]] == [Self.money("1000.00", "EUR")])
        let cycle = try #require(owners.first?["average_cycle_days"] as? Double)
        #expect(cycle >= 0 && cycle < 1, "won within the test")
        #expect(owners.last?["average_cycle_days"] is NSNull, "no deal won, no cycle")
        // By owner over whole days from the counts the trigger keeps, with a time of day from the deals: the same.
        let ownersFromDeals = try await api.get("/api/v1/reports/win-rate?pipeline_id=\(book.pipeline)&from=2000-01-01T00:00:01Z")
        #expect(NSDictionary(dictionary: ownersFromDeals.json).isEqual(to: byOwner.json), "\(ownersFromDeals.text) vs \(byOwner.text)")

        // The contact's region is the replica's, from contacts' events.
        let regions = try await api.get("/api/v1/reports/win-rate?pipeline_id=\(book.pipeline)&by=region").json["rows"] as? [[String: Any]] ?? []
        #expect(regions.first?["key"] as? String == book.region)
        #expect(regions.map { $0["key"] as? String } == [book.region, nil], "D5 has no contact")
        #expect(regions.compactMap { $0["win_rate"] as? Double } == [0.5, 0])
        let sources = try await api.get("/api/v1/reports/win-rate?pipeline_id=\(book.pipeline)&by=lead_source").json["rows"] as? [[String: Any]] ?? []
        #expect(sources.first?["key"] as? String == "referral")
        #expect(try await api.get("/api/v1/reports/win-rate?by=colour").status == 400)

        let lost = try await api.get("/api/v1/reports/lost-reasons?pipeline_id=\(book.pipeline)")
        #expect(lost.status == 200, "\(lost.text)")
        #expect(lost.json["lost"] as? Int == 2)
        let reasons = lost.json["reasons"] as? [[String: Any]] ?? []
        #expect(reasons.compactMap { $0["reason"] as? String } == ["competitor", "price"])
        #expect(reasons.compactMap { $0["share"] as? Double } == [0.5, 0.5])
        #expect(reasons.compactMap { $0["label"] as? String } == ["Competitor", "Price"])
        #expect(reasons.map { $0["amounts"] as? [[String: String]] ?? [] } == [[Self.money("400.00", "EUR")], [Self.money("2000.00", "EUR")]])
        let lostFromDeals = try await api.get("/api/v1/reports/lost-reasons?pipeline_id=\(book.pipeline)&from=2000-01-01T00:00:01Z")
        #expect(NSDictionary(dictionary: lostFromDeals.json).isEqual(to: lost.json), "counts and deals agree: \(lostFromDeals.text) vs \(lost.text)")
        let before = try await api.get("/api/v1/reports/lost-reasons?pipeline_id=\(book.pipeline)&to=2000-01-01")
        #expect(before.json["lost"] as? Int == 0)
        #expect(try await api.get("/api/v1/reports/lost-reasons?from=2027-01-01&to=2026-01-01").status == 400)
    }

    func countsFollowChanges() async throws {
        let book = try await book()
        let open = try await api.get("/api/v1/deals?pipeline_id=\(book.pipeline)&status=open").items
        let d3 = try #require(open.first { ($0["amount"] as? [String: String])?["amount"] == "500.00" })
        let d6 = try #require(open.first { ($0["amount"] as? [String: String])?["currency"] == "USD" })
        var moved = try await api.send("POST", "/api/v1/deals/\(d3["id"]!)/stage", json: ["stage_id": book.stages[2], "version": d3["version"]!]).json
        moved = try await api.send("PATCH", "/api/v1/deals/\(d3["id"]!)", json: ["amount": ["amount": "700"], "probability": 40, "version": moved["version"]!]).json
        #expect(try await api.send("DELETE", "/api/v1/deals/\(d6["id"]!)").status == 204)
        let lost = try await api.get("/api/v1/deals?pipeline_id=\(book.pipeline)&status=lost").items
        let d5 = try #require(lost.first { ($0["amount"] as? [String: String])?["amount"] == "400.00" })
        _ = try await api.send("POST", "/api/v1/deals/\(d5["id"]!)/reopen", json: ["version": d5["version"]!])

        let counted = try await api.get("/api/v1/reports/funnel?pipeline_id=\(book.pipeline)").json
        let recomputed = try await api.get("/api/v1/reports/funnel?pipeline_id=\(book.pipeline)&from=2000-01-01T00:00:01Z").json
        #expect(NSDictionary(dictionary: counted).isEqual(to: recomputed), "\(counted) vs \(recomputed)")
        #expect(counted["deals"] as? Int == 5)
        #expect(counted["open"] as? Int == 3, "D3, D4 and the reopened D5")
        let stages = counted["stages"] as? [[String: Any]] ?? []
        #expect(stages.compactMap { $0["reached"] as? Int } == [5, 4, 3], "D3 now reached S3 (and so counts for S2)")
        #expect(stages.map { ($0["open"] as? [String: Any])?["amounts"] as? [[String: String]] ?? [] } == [
            [Self.money("400.00", "EUR")], [], [Self.money("3700.00", "EUR")],
        ])
        let forecast = try await api.get("/api/v1/reports/forecast?pipeline_id=\(book.pipeline)").json
        let rows = forecast["rows"] as? [[String: Any]] ?? []
        #expect(rows.map { $0["month"] as? String } == ["2027-01", "2027-01", nil], "D6 deleted; D5 has no expected close")
        #expect(rows.map { $0["weighted"] as? [String: String] ?? [:] } == [
            Self.money("280.00", "EUR"), Self.money("2700.00", "EUR"), Self.money("40.00", "EUR"),
        ], "700 × 40% (its own), 3000 × 90%, 400 × 10% (S1)")
        #expect((forecast["totals"] as? [[String: Any]])?.compactMap { $0["deals"] as? Int } == [3], "with D5, whose month is null")
        // A board's columns: the funnel's open deals per stage, from the forecast's counts.
        for owner in ["", "&owner=\(book.owners.0)"] {
            let board = try await api.get("/api/v1/reports/open-deals?pipeline_id=\(book.pipeline)\(owner)").json
            let funnel = try await api.get("/api/v1/reports/funnel?pipeline_id=\(book.pipeline)\(owner)").json
            let open = { (report: [String: Any]) in (report["stages"] as? [[String: Any]] ?? []).map { NSDictionary(dictionary: $0["open"] as? [String: Any] ?? [:]) } }
            #expect(open(board) == open(funnel) && !open(board).isEmpty, "\(owner): \(board) vs \(funnel)")
        }
        for report in ["win-rate", "lost-reasons"] {
            let kept = try await api.get("/api/v1/reports/\(report)?pipeline_id=\(book.pipeline)").json
            let fromDeals = try await api.get("/api/v1/reports/\(report)?pipeline_id=\(book.pipeline)&from=2000-01-01T00:00:01Z").json
            #expect(NSDictionary(dictionary: kept).isEqual(to: fromDeals), "\(report) after a reopen: \(kept) vs \(fromDeals)")
        }
        #expect(try await api.get("/api/v1/reports/lost-reasons?pipeline_id=\(book.pipeline)").json["lost"] as? Int == 1, "D5 reopened")
    }
}
