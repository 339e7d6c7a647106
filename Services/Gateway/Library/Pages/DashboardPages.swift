import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import NIOCore
import ServiceKit

/// Management's dashboards over the sales reports: the funnel with conversion per stage, the
/// weighted forecast by month, win rate and sales cycle by owner, region, country, lead source or
/// product, and the lost reasons; each chart with its numbers and as CSV.
struct DashboardPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let users: UserStore

    var renderer: PageRenderer { access.renderer }
    static let groupings = [("owner", "owner"), ("region", "region"), ("country", "country"), ("lead_source", "lead source"), ("product", "product")]
    static let charts = ["funnel", "forecast", "win-rate", "lost-reasons"]

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/dashboards") { request, _, visit in
            let filter = Self.filter(request)
            let staff = try await users.names()
            // The charts side by side: the page takes as long as its slowest report, not their sum.
            async let pipelinesRead = api.get("/api/v1/pipelines", as: visit.caller)
            let charts = try await withThrowingTaskGroup(of: (Int, (chart: BarChart, summary: String?)).self) { group in
                for (index, name) in Self.charts.enumerated() {
                    group.addTask { (index, try await chart(name, filter, visit, staff)) }
                }
                return try await group.reduce(into: [(chart: BarChart, summary: String?)?](repeating: nil, count: Self.charts.count)) { $0[$1.0] = $1.1 }
                    .compactMap { $0 }
            }
            let pipelines = try await pipelinesRead["items"]?.array ?? []
            var values = visit.values
            values["filter"] = filter
            values["pipelines"] = pipelines.map { pipeline -> [String: Any] in
                let id = pipeline["id"]?.string ?? ""
                return ["id": id, "name": pipeline["name"]?.string ?? "",
                        "selected": filter["pipeline_id"].map { $0 == id } ?? (pipeline["is_default"]?.bool == true)]
            }
            values["owners"] = staff.sorted { $0.value < $1.value }.map { ["id": $0.key, "name": $0.value, "selected": $0.key == filter["owner"]] }
            values["groupings"] = Self.groupings.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == (filter["by"] ?? "owner")] }
            let query = StaffPages.query(filter)
            values["charts"] = charts.enumerated().map { index, chart in
                var item = chart.chart.template.merging(["key": Self.charts[index], "query": query]) { $1 }
                if let summary = chart.summary { item["summary"] = summary }
                return item
            }
            return renderer.page("dashboards", values)
        }
        access.page(router, .get, "/dashboards/:file") { request, context, visit in
            let file = context.parameters.get("file") ?? ""
            guard file.hasSuffix(".csv"), Self.charts.contains(String(file.dropLast(4))) else { throw PageOutcome.notFound }
            let chart = try await chart(String(file.dropLast(4)), Self.filter(request), visit, try await users.names()).chart
            return Response(
                status: .ok,
                headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(file)\"", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: chart.csv))
            )
        }
    }

    static func filter(_ request: Request) -> [String: String] {
        var filter: [String: String] = [:]
        for name in ["from", "to", "pipeline_id", "owner", "by"] {
            if let value = request.uri.queryParameters.get(name)?.trimmed, !value.isEmpty { filter[name] = value }
        }
        return filter
    }

    private func chart(
        _ name: String, _ filter: [String: String], _ visit: WebAccess.Visit, _ staff: [String: String]
    ) async throws -> (chart: BarChart, summary: String?) {
        let query = ["from", "to", "pipeline_id", "owner"].map { ($0, filter[$0]) }
        let percent = { (share: Double?) in share.map { String(format: "%.1f %%", $0 * 100) } ?? "–" }
        switch name {
        case "funnel":
            let funnel = try await api.get("/api/v1/reports/funnel", query: query, as: visit.caller)
            let stages = funnel["stages"]?.array ?? []
            let won = Int(funnel["won"]?.number ?? 0)
            var bars = stages.map { stage in
                BarChart.Bar(
                    label: stage["name"]?.string ?? "", value: stage["reached"]?.number ?? 0,
                    text: "\(Int(stage["reached"]?.number ?? 0)) · \(percent(stage["conversion_to_next"]?.number)) on"
                )
            }
            bars.append(.init(label: "Won", value: Double(won), text: "\(won)"))
            let rows = stages.map { stage in
                [stage["name"]?.string ?? "", "\(Int(stage["reached"]?.number ?? 0))", "\(Int(stage["open"]?["count"]?.number ?? 0))",
                 percent(stage["conversion_to_next"]?.number)]
            } + [["Won", "\(won)", "", ""]]
            let summary = "\(Int(funnel["deals"]?.number ?? 0)) deals: \(Int(funnel["open"]?.number ?? 0)) open, \(won) won, \(Int(funnel["lost"]?.number ?? 0)) lost"
            return (BarChart(title: "Funnel", bars: bars, columns: ["stage", "reached", "open now", "conversion to next"], rows: rows), summary)
        case "forecast":
            let rows = try await api.get("/api/v1/reports/forecast", query: query, as: visit.caller)["rows"]?.array ?? []
            var months: [String: Decimal] = [:]
            var currency = ""
            for row in rows {
                let month = row["month"]?.string ?? "no date"
                currency = row["weighted"]?["currency"]?.string ?? currency
                months[month, default: 0] += row["weighted"]?["amount"]?.string.flatMap { Decimal(string: $0) } ?? 0
            }
            let bars = months.keys.sorted().map { month in
                BarChart.Bar(label: month, value: NSDecimalNumber(decimal: months[month]!).doubleValue, text: "\(months[month]!) \(currency)")
            }
            let table = rows.map { row in
                [row["month"]?.string ?? "no date", row["owner"]?.string.map { staff[$0] ?? $0 } ?? "", "\(Int(row["deals"]?.number ?? 0))",
                 StaffPages.money(row["amount"]), StaffPages.money(row["weighted"])]
            }
            return (BarChart(title: "Weighted forecast by month", bars: bars, columns: ["month", "owner", "deals", "amount", "weighted"], rows: table), nil)
        case "win-rate":
            let by = filter["by"] ?? "owner"
            let rows = try await api.get("/api/v1/reports/win-rate", query: query + [("by", by)], as: visit.caller)["rows"]?.array ?? []
            let label = { (row: JSONValue) in row["key"]?.string.map { by == "owner" ? (staff[$0] ?? $0) : $0 } ?? "(none)" }
            let bars = rows.map { BarChart.Bar(label: label($0), value: $0["win_rate"]?.number ?? 0, text: percent($0["win_rate"]?.number)) }
            let table = rows.map { row in
                [label(row), "\(Int(row["won"]?.number ?? 0))", "\(Int(row["lost"]?.number ?? 0))", percent(row["win_rate"]?.number),
                 row["average_cycle_days"]?.number.map { String(format: "%.1f", $0) } ?? "–"]
            }
            let title = "Win rate by \(Self.groupings.first { $0.0 == by }?.1 ?? by)"
            return (BarChart(title: title, bars: bars, columns: [by, "won", "lost", "win rate", "sales cycle (days)"], rows: table), nil)
        default:
            let report = try await api.get("/api/v1/reports/lost-reasons", query: query, as: visit.caller)
            let reasons = report["reasons"]?.array ?? []
            let bars = reasons.map {
                BarChart.Bar(label: $0["label"]?.string ?? $0["reason"]?.string ?? "", value: $0["deals"]?.number ?? 0,
                             text: "\(Int($0["deals"]?.number ?? 0)) · \(percent($0["share"]?.number))")
            }
            let table = reasons.map { [$0["reason"]?.string ?? "", "\(Int($0["deals"]?.number ?? 0))", percent($0["share"]?.number)] }
            return (BarChart(title: "Lost reasons", bars: bars, columns: ["reason", "deals", "share"], rows: table), "\(Int(report["lost"]?.number ?? 0)) deals lost")
        }
    }
}
