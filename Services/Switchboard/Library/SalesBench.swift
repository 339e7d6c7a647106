import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOHTTP1
import PostgresNIO
import ServiceKit
import Storage

/// `switchboard bench sales`: the funnel and forecast reports at a million deals, and the customer
/// overview under load, through the running gateway. Seeded deals are fixtures written straight
/// into the sales schema (no events), tagged `bench`, and stay: a large base is the point.
struct SalesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sales",
        abstract: "Funnel and forecast latency at a million deals; customer overview latency under load."
    )

    @Option(help: "The gateway's base URL.") var gateway = "http://127.0.0.1:8080"
    @Option(help: "Deals to measure the reports at (seeded when fewer).") var base = 1_000_000
    @Option(help: "Requests per report measurement.") var queries = 200
    @Option(help: "Concurrent clients of the overview run.") var concurrency = 8
    @Option(help: "Overview requests in the load run.") var overviews = 4_000
    @Option(help: "Leads converted one after another for the conversion run.") var conversions = 50

    static let defaultPipeline = "00000000-0000-7000-8000-000000000001"

    func run() async throws {
        guard let key = ProcessInfo.processInfo.environment["SWITCHBOARD_ADMIN_KEY"], !key.isEmpty else {
            throw ValidationError("set SWITCHBOARD_ADMIN_KEY to the admin API key")
        }
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency))
        )
        let api = BenchAPI(http: http, base: gateway, key: key)
        print("switchboard bench sales: \(concurrency) clients for the overview")
        do {
            try await OperatorContext.withClient { client in
                let deals = try await seed(client)
                let contacts = try await contactsWithDeals(client)

                let funnel = try await api.timedGets(reportPaths("/api/v1/reports/funnel?pipeline_id=\(Self.defaultPipeline)", future: false))
                print(String(format: "funnel at %d deals                 p50 %6.1f ms  p99 %6.1f ms (target p99 <= 100 ms)",
                             deals, percentile(funnel, 0.5), percentile(funnel, 0.99)))
                let forecast = try await api.timedGets(reportPaths("/api/v1/reports/forecast?pipeline_id=\(Self.defaultPipeline)", future: true))
                print(String(format: "forecast at %d deals               p50 %6.1f ms  p99 %6.1f ms (target p99 <= 100 ms)",
                             deals, percentile(forecast, 0.5), percentile(forecast, 0.99)))

                let (overview, rate) = try await overviewLoad(api, contacts: contacts)
                print(String(format: "customer overview, %d clients      p50 %6.1f ms  p99 %6.1f ms (target p99 <= 25 ms), %.0f req/s",
                             concurrency, percentile(overview, 0.5), percentile(overview, 0.99), rate))

                let linked = try await conversionLatency(api)
                print(String(format: "lead converted to linked, %d leads  p50 %6.1f ms  p99 %6.1f ms max %6.1f ms (target: within a second)",
                             conversions, percentile(linked, 0.5), percentile(linked, 0.99), linked.last ?? 0))
            }
        } catch {
            try? await http.shutdown()
            throw BenchFailure(String(reflecting: error))
        }
        try await http.shutdown()
    }

    /// Tops the bench deals up to `base` in the default pipeline: created over two years, 15% won,
    /// 25% lost, the rest open and expected to close within a year, each with its stays in the
    /// stages up to its own; one in ten names a contact (two deals each), so overviews have deals.
    func seed(_ client: PostgresClient) async throws -> Int {
        let existing = try await count("SELECT count(*) FROM sales.deals WHERE tags @> ARRAY['bench'] AND deleted_at IS NULL", client)
        let missing = base - existing
        guard missing > 0 else { return existing }
        let contacts = try await count("SELECT count(*) FROM (SELECT 1 FROM contacts.contacts WHERE deleted_at IS NULL LIMIT 50000) c", client)
        let start = ContinuousClock.now
        var done = 0
        while done < missing {
            let chunk = min(100_000, missing - done)
            let first = existing + done + 1
            try await client.query(PostgresQuery(unsafeSQL: """
                WITH people AS MATERIALIZED (SELECT array_agg(id ORDER BY id) AS ids FROM (SELECT id FROM contacts.contacts WHERE deleted_at IS NULL
                        ORDER BY id LIMIT 50000) c),
                st AS MATERIALIZED (SELECT id, position, probability FROM sales.stages WHERE pipeline_id = '\(Self.defaultPipeline)' AND retired_at IS NULL),
                ordered AS MATERIALIZED (SELECT array_agg(id ORDER BY position) AS stage_ids FROM st),
                rows AS (
                    SELECT gen_random_uuid() AS id, n,
                        (SELECT stage_ids[1 + n % cardinality(stage_ids)] FROM ordered) AS stage_id,
                        CASE WHEN n % 20 < 3 THEN 'won' WHEN n % 20 < 8 THEN 'lost' ELSE 'open' END AS status,
                        date_trunc('milliseconds', now() - make_interval(days => n % 730, secs => n % 86400)) AS created_at
                    FROM generate_series(\(first), \(first + chunk - 1)) AS n),
                deals AS (
                    INSERT INTO sales.deals (id, title, contact_id, pipeline_id, stage_id, visited, amount, currency, expected_close_date,
                        owner, status, lost_reason, closed_at, stage_entered_at, tags, created_at, updated_at)
                    SELECT r.id, 'Bench deal ' || r.n,
                        CASE WHEN r.n % 10 = 0 AND \(contacts) > 0 THEN (SELECT ids[1 + (r.n / 10) % \(max(contacts, 1))] FROM people) END,
                        '\(Self.defaultPipeline)', r.stage_id,
                        (SELECT array_agg(s.id ORDER BY s.id) FROM st s WHERE s.position <= (SELECT position FROM st WHERE id = r.stage_id)),
                        (r.n % 1000) * 100 + 50, CASE WHEN r.n % 10 = 3 THEN 'USD' ELSE 'EUR' END,
                        CASE WHEN r.status = 'open' THEN current_date + (r.n % 365) END, 'owner' || (r.n % 50), r.status,
                        CASE WHEN r.status = 'lost' THEN (ARRAY['price','competitor','timing','no_budget','no_decision','other'])[1 + r.n % 6] END,
                        CASE WHEN r.status <> 'open' THEN r.created_at + make_interval(days => 1 + r.n % 60) END,
                        r.created_at, ARRAY['bench'], r.created_at, r.created_at
                    FROM rows r
                    RETURNING id, stage_id, status, created_at, closed_at)
                INSERT INTO sales.deal_stage_history (deal_id, stage_id, entered_at, exited_at)
                SELECT d.id, s.id, d.created_at + make_interval(hours => s.position - 1),
                    CASE WHEN s.id <> d.stage_id THEN d.created_at + make_interval(hours => s.position) ELSE d.closed_at END
                FROM deals d JOIN st s ON s.position <= (SELECT position FROM st WHERE id = d.stage_id)
                """))
            done += chunk
            print(String(format: "seeded %d of %d deals (%.0f s)", done, missing, seconds(since: start)))
        }
        try await client.query("ANALYZE sales.deals")
        try await client.query("ANALYZE sales.deal_stage_history")
        return existing + missing
    }

    /// Contacts the seeded deals name, for the overview run.
    func contactsWithDeals(_ client: PostgresClient) async throws -> [String] {
        var ids: [String] = []
        let rows = try await client.query("""
            SELECT DISTINCT contact_id::text FROM sales.deals WHERE tags @> ARRAY['bench'] AND contact_id IS NOT NULL LIMIT 20000
            """)
        for try await id in rows.decode(String.self) { ids.append(id) }
        guard !ids.isEmpty else { throw ValidationError("no seeded deal names a contact: run `bench contacts` first, or seed contacts") }
        return ids
    }

    /// A third over everything, a third over a quarter, a third over a month: created in the past
    /// for the funnel, expected to close in the coming year for the forecast.
    func reportPaths(_ base: String, future: Bool) -> [String] {
        let calendar = Calendar(identifier: .gregorian)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return (0..<queries).map { index in
            let months = [0, 3, 1][index % 3]
            guard months > 0 else { return base }
            let offset = Int.random(in: 0..<(future ? 9 : 21))
            let from = calendar.date(byAdding: .month, value: future ? offset : -(offset + months), to: Date())!
            let to = calendar.date(byAdding: .month, value: months, to: from)!
            return base + "&from=\(formatter.string(from: from))&to=\(formatter.string(from: to))"
        }
    }

    /// `concurrency` clients asking overviews of random contacts with deals; every answer must be
    /// whole (both sources ok). Latencies sorted, and the rate.
    func overviewLoad(_ api: BenchAPI, contacts: [String]) async throws -> ([Double], Double) {
        let start = ContinuousClock.now
        let perClient = overviews / concurrency
        let times = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var times: [Double] = []
                    for _ in 0..<perClient {
                        let contact = contacts.randomElement()!
                        let begin = ContinuousClock.now
                        let answer = try await api.send(.GET, "/api/v1/customers/\(contact)/overview")
                        times.append(seconds(since: begin) * 1000)
                        let overview = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any]
                        let sources = overview?["sources"] as? [String: [String: Any]] ?? [:]
                        guard answer.status == 200, !sources.isEmpty, sources.values.allSatisfy({ $0["status"] as? String == "ok" }) else {
                            throw BenchFailure("overview of \(contact) answered \(answer.status): \(answer.body.prefix(300))")
                        }
                    }
                    return times
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        return (times.sorted(), Double(perClient * concurrency) / seconds(since: start))
    }

    /// Leads qualified and converted one at a time; each is timed from the conversion's answer
    /// until the gateway shows the lead and its deal linked to the contact that the contacts
    /// service created from sales' event (milliseconds, sorted). The leads stay, owned by `bench`.
    func conversionLatency(_ api: BenchAPI) async throws -> [Double] {
        func json(_ answer: (status: Int, body: String), _ expected: Int, _ what: String) throws -> [String: Any] {
            guard answer.status == expected, let object = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any] else {
                throw BenchFailure("\(what) answered \(answer.status): \(answer.body.prefix(300))")
            }
            return object
        }
        let run = UUID().uuidString.prefix(8).lowercased()
        var times: [Double] = []
        for index in 0..<conversions {
            let created = try json(try await api.send(.POST, "/api/v1/leads", body: """
                {"first_name":"Bench","last_name":"Lead \(index)","company":"Bench \(run)","email":"bench-\(run)-\(index)@example.com","source":"web"}
                """), 201, "lead create")
            let id = created["id"] as? String ?? ""
            let qualified = try json(try await api.send(.POST, "/api/v1/leads/\(id)/qualify", body: #"{"version":1}"#), 200, "qualify")
            let converted = try json(try await api.send(.POST, "/api/v1/leads/\(id)/convert", body: """
                {"version":\(qualified["version"] as? Int ?? 0),"deal":{"amount":{"amount":"100","currency":"EUR"}}}
                """), 201, "convert")
            let start = ContinuousClock.now
            let dealId = converted["deal_id"] as? String ?? ""
            while true {
                let lead = try json(try await api.send(.GET, "/api/v1/leads/\(id)"), 200, "lead read")
                if let contact = lead["contact_id"] as? String,
                    try json(try await api.send(.GET, "/api/v1/deals/\(dealId)"), 200, "deal read")["contact_id"] as? String == contact
                {
                    break
                }
                guard seconds(since: start) < 30 else { throw BenchFailure("lead \(id) was not linked within 30 s") }
                try await Task.sleep(for: .milliseconds(2))
            }
            times.append(seconds(since: start) * 1000)
        }
        return times.sorted()
    }
}
