import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import NIOCore
import ServiceKit

/// Activities: a week calendar of a user or a team with what is overdue above it, done with an
/// outcome from the page; and each user's calendar feed, a secret URL a calendar program fetches.
struct ActivityPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let users: UserStore
    let teams: TeamStore
    let feeds: CalendarFeedStore

    var renderer: PageRenderer { access.renderer }
    static let outcomes = ["done", "reached", "no_answer", "callback", "not_interested", "postponed"]

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/activities") { request, _, visit in try await week(request, visit, feedURL: nil) }
        access.page(router, .post, "/activities/:id/complete") { request, context, visit in
            let id = try context.uuidParameter("id").lowercased
            var body: [String: JSONValue] = ["outcome": .string(visit.form["outcome"] ?? "done")]
            if let notes = visit.form["notes"] { body["notes"] = .string(notes) }
            let answer = try await api.call(
                .post, "/api/v1/activities/{id}/complete", ["id": id], body: DealPages.versioned(body, visit.form["version"].flatMap(Int64.init)),
                as: visit.caller
            )
            let back = request.headers[.referer].flatMap(DealPages.localPath) ?? "/activities"
            guard answer.ok else { return try await week(request, visit, feedURL: nil, error: answer.message) }
            throw PageOutcome.redirect(back)
        }
        access.page(router, .post, "/activities/feed") { request, _, visit in
            let token = try await feeds.renew(for: visit.session.userId)
            return try await week(request, visit, feedURL: Self.origin(request) + "/calendar/\(token).ics")
        }
        access.page(router, .post, "/activities/feed/revoke") { _, _, visit in
            try await feeds.revoke(for: visit.session.userId)
            throw PageOutcome.redirect("/activities#feed")
        }
        // The feed itself: no session, the URL's secret is the key; anything wrong is a bare 404.
        router.get("/calendar/:file") { request, context -> Response in
            let file = context.parameters.get("file") ?? ""
            guard file.hasSuffix(".ics"), let subscriber = try await feeds.subscriber(String(file.dropLast(4))) else {
                return Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "no such calendar\n")))
            }
            let caller = Caller(id: subscriber.userId.lowercased, role: subscriber.role)
            let now = Date()
            let activities = try await all(
                owner: subscriber.userId.lowercased, from: now.addingTimeInterval(-30 * 86400), to: now.addingTimeInterval(180 * 86400), as: caller
            )
            let text = ICalendar.calendar(name: subscriber.name, activities: activities, base: Self.origin(request))
            return Response(
                status: .ok,
                headers: [.contentType: "text/calendar; charset=utf-8", .cacheControl: "private, max-age=300", .contentDisposition: "inline; filename=\"switchboard.ics\""],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
    }

    // MARK: - The week

    private func week(_ request: Request, _ visit: WebAccess.Visit, feedURL: String?, error: String? = nil) async throws -> Response {
        let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = zone
        let day = request.uri.queryParameters.get("week").flatMap { Self.day($0, calendar) } ?? Date()
        let start = calendar.dateInterval(of: .weekOfYear, for: day)?.start ?? calendar.startOfDay(for: day)
        let end = calendar.date(byAdding: .day, value: 7, to: start)!

        let staff = try await users.names()
        let teamList = try await teams.list().items.compactMap { try? APICoding.decoder.decode(JSONValue.self, from: Data($0.utf8)) }
        let who = request.uri.queryParameters.get("who") ?? "user:\(visit.session.userId.lowercased)"
        var owners = [visit.session.userId.lowercased]
        var heading = "My week"
        if who.hasPrefix("user:"), staff[String(who.dropFirst(5))] != nil {
            owners = [String(who.dropFirst(5))]
            if owners[0] != visit.session.userId.lowercased { heading = "\(staff[owners[0]] ?? "")'s week" }
        } else if who.hasPrefix("team:"), let team = teamList.first(where: { $0["id"]?.string == String(who.dropFirst(5)) }) {
            owners = team["member_ids"]?.array?.compactMap(\.string) ?? []
            heading = "Team \(team["name"]?.string ?? "")"
        }

        // One call per owner, side by side: a team is a handful of people.
        let (planned, overdue) = try await withThrowingTaskGroup(of: ([JSONValue], [JSONValue]).self) { group in
            for owner in owners {
                group.addTask {
                    async let week = all(owner: owner, from: start, to: end, as: visit.caller)
                    async let late = api.get("/api/v1/activities", query: [("owner", owner), ("overdue", "true"), ("limit", "100")], as: visit.caller)
                    return (try await week, try await late["items"]?.array ?? [])
                }
            }
            var planned: [JSONValue] = [], overdue: [JSONValue] = []
            for try await (week, late) in group {
                planned += week
                overdue += late
            }
            return (planned, overdue)
        }
        let showOwner = owners.count > 1
        func card(_ activity: JSONValue, format: String) -> [String: Any] {
            StaffPages.compact([
                "id": activity["id"]?.string ?? "", "kind": activity["kind"]?.string ?? "", "subject": activity["subject"]?.string ?? "",
                "time": StaffPages.local(activity["due_at"]?.string, zone, format: format), "done": activity["done"]?.bool ?? false,
                "outcome": activity["outcome"]?.string?.replacingOccurrences(of: "_", with: " "),
                "contactId": activity["contact_id"]?.string, "dealId": activity["deal_id"]?.string,
                "owner": showOwner ? activity["owner"]?.string.map { staff[$0] ?? $0 } : nil,
                "version": activity["version"]?.number.map { Int64($0) } ?? 0, "notes": activity["notes"]?.string,
            ])
        }
        let byDue = { (a: JSONValue, b: JSONValue) in (a["due_at"]?.string ?? "") < (b["due_at"]?.string ?? "") }
        let dayFormatter = DateFormatter()
        dayFormatter.timeZone = zone
        dayFormatter.locale = Locale(identifier: "en_GB")
        dayFormatter.dateFormat = "EEEE d MMM"
        let today = calendar.startOfDay(for: Date())
        var days: [[String: Any]] = []
        for offset in 0..<7 {
            let date = calendar.date(byAdding: .day, value: offset, to: start)!
            let items = planned.filter { activity in
                activity["due_at"]?.string.flatMap(StaffPages.date).map { calendar.isDate($0, inSameDayAs: date) } ?? false
            }.sorted(by: byDue)
            days.append(["name": dayFormatter.string(from: date), "today": calendar.isDate(date, inSameDayAs: today), "activities": items.map { card($0, format: "HH:mm") }])
        }

        var values = visit.values
        values["heading"] = heading
        values["range"] = "\(dayFormatter.string(from: start)) – \(dayFormatter.string(from: end.addingTimeInterval(-1)))"
        values["who"] = who
        let iso = { (date: Date) in StaffPages.local(StaffPages.timestamp(date), zone, format: "yyyy-MM-dd") }
        values["previous"] = StaffPages.query(["who": who, "week": iso(calendar.date(byAdding: .day, value: -7, to: start)!)])
        values["next"] = StaffPages.query(["who": who, "week": iso(end)])
        values["thisWeek"] = StaffPages.query(["who": who])
        values["days"] = days
        values["overdue"] = overdue.sorted(by: byDue).map { card($0, format: "EEE d MMM, HH:mm") }
        values["people"] = staff.sorted { $0.value < $1.value }.map { ["value": "user:\($0.key)", "name": $0.value, "selected": "user:\($0.key)" == who] }
        values["teams"] = teamList.map { team -> [String: Any] in
            let value = "team:\(team["id"]?.string ?? "")"
            return ["value": value, "name": team["name"]?.string ?? "", "selected": value == who]
        }
        values["hasTeams"] = !teamList.isEmpty
        values["outcomes"] = Self.outcomes
        if let feedURL { values["feedURL"] = feedURL }
        if let feed = try await feeds.status(for: visit.session.userId) {
            values["feed"] = StaffPages.compact([
                "created": StaffPages.local(StaffPages.timestamp(feed.created), zone),
                "fetched": feed.lastFetched.map { StaffPages.local(StaffPages.timestamp($0), zone) },
            ])
        }
        if let error { values["error"] = error }
        return renderer.page("activities", values, status: error == nil ? .ok : .conflict)
    }

    /// Every activity of the owner due in the range, through as many pages as it takes.
    private func all(owner: String, from: Date, to: Date, as caller: Caller) async throws -> [JSONValue] {
        var items: [JSONValue] = []
        var cursor: String?
        repeat {
            let page = try await api.get(
                "/api/v1/activities",
                query: [("owner", owner), ("from", StaffPages.timestamp(from)), ("to", StaffPages.timestamp(to)), ("limit", "200"), ("cursor", cursor)],
                as: caller
            )
            items += page["items"]?.array ?? []
            cursor = page["next_cursor"]?.string
        } while cursor != nil && items.count < 2000
        return items
    }

    private static func day(_ text: String, _ calendar: Calendar) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12))
    }

    /// Where the browser reached the gateway, for links that leave the page (a calendar program's).
    static func origin(_ request: Request) -> String {
        let host = request.head.authority ?? "127.0.0.1"
        let scheme = request.headers[HTTPField.Name("X-Forwarded-Proto")!] ?? "http"
        return "\(scheme)://\(host)"
    }
}
