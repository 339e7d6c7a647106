import Foundation
import Testing
import TestSupport

/// The activity pages against the running suite: scheduling from a contact, the week and the
/// overdue list, done from the page, and the secret calendar feed with its revocation.
@Suite("Web activities and the calendar feed", .timeLimit(.minutes(3)))
struct WebActivityTests {
    let api = APIClient()
    static let password = "a long enough secret 42"

    @Test("an activity scheduled on a contact's page is in its owner's week, in their time zone, and done from there with an outcome")
    func scheduleAndComplete() async throws {
        let rep = try await api.newUser(role: "sales", password: Self.password, name: "Week Planner")
        let browser = WebClient()
        try await browser.signIn(try #require(rep["email"] as? String), Self.password)
        let contact = try await api.newContact("Scheduled")
        let subject = "Walk through the offer \(UUID().uuidString.prefix(6))"
        let csrf = try await browser.csrf(on: "/contacts/\(contact)")
        let refused = try await browser.post(
            "/contacts/\(contact)/activities", [("kind", "call"), ("subject", subject), ("date", "2026-13-40"), ("time", "10:30")], csrf: csrf
        )
        #expect(refused.status == 422)
        #expect(refused.text.contains("date: give a day as YYYY-MM-DD"))
        let scheduled = try await browser.post(
            "/contacts/\(contact)/activities",
            [("kind", "call"), ("subject", subject), ("date", "2030-03-05"), ("time", "10:30"), ("duration_minutes", "45")], csrf: csrf
        )
        #expect(scheduled.status == 303)
        let owner = try #require(rep["id"] as? String)
        let listed = try await api.get("/api/v1/activities?owner=\(owner)")
        let activity = try #require(listed.items.first { $0["subject"] as? String == subject })
        // 10:30 in Berlin (the user's zone) in March is 09:30 UTC.
        #expect((activity["due_at"] as? String)?.hasPrefix("2030-03-05T09:30:00") == true, "\(activity["due_at"] ?? "")")
        #expect(activity["contact_id"] as? String == contact)
        let week = try await browser.get("/activities?week=2030-03-05")
        #expect(week.status == 200)
        #expect(week.text.contains(subject) && week.text.contains("10:30"))
        let id = try #require(activity["id"] as? String)
        let done = try await browser.post(
            "/activities/\(id)/complete", [("outcome", "reached"), ("version", "\(activity["version"] ?? 1)")], csrf: try await browser.csrf(on: "/activities")
        )
        #expect(done.status == 303)
        let after = try await api.get("/api/v1/activities/\(id)").json
        #expect(after["done"] as? Bool == true)
        #expect(after["outcome"] as? String == "reached")
    }

    @Test("what is overdue is listed above the week, for the user and for their team")
    func overdue() async throws {
        let rep = try await api.newUser(role: "sales", password: Self.password, name: "Late Rep")
        let owner = try #require(rep["id"] as? String)
        let subject = "Overdue \(UUID().uuidString.prefix(6))"
        let created = try await api.post("/api/v1/activities", [
            "kind": "task", "subject": subject, "owner": owner, "due_at": "2020-01-02T08:00:00Z",
        ])
        #expect(created.status == 201)
        let team = try await api.post("/api/v1/teams", ["name": "Late team \(UUID().uuidString.prefix(6))", "member_ids": [owner]])
        let teamId = try #require(team.json["id"] as? String)
        let browser = WebClient()
        try await browser.signIn(try #require(rep["email"] as? String), Self.password)
        for who in ["", "?who=team:\(teamId)"] {
            let page = try await browser.get("/activities\(who)")
            let overdueList = try #require(page.text.range(of: "id=\"overdue\"").map { String(page.text[$0.upperBound...]) })
            #expect(overdueList.prefix(upTo: overdueList.range(of: "</ul>")!.lowerBound).contains(subject), "overdue for \(who)")
        }
    }

    @Test("the calendar feed answers its secret URL with the owner's activities as iCalendar; a new URL or revoking ends the old one, and so does deactivation")
    func feed() async throws {
        let rep = try await api.newUser(role: "sales", password: Self.password, name: "Feed Reader")
        let owner = try #require(rep["id"] as? String)
        let subject = "Feed; item, with \\ specials \(UUID().uuidString.prefix(6))"
        let due = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86400))
        #expect(try await api.post("/api/v1/activities", ["kind": "meeting", "subject": subject, "owner": owner, "due_at": due]).status == 201)
        let browser = WebClient()
        try await browser.signIn(try #require(rep["email"] as? String), Self.password)
        let made = try await browser.post("/activities/feed", [], csrf: try await browser.csrf(on: "/activities"))
        let url = try #require(Self.feedURL(made.text))
        let path = String(url[url.range(of: "/calendar/")!.lowerBound...])
        let stranger = WebClient()
        let feed = try await stranger.get(path)
        #expect(feed.status == 200)
        #expect(feed.header("content-type")?.hasPrefix("text/calendar") == true)
        #expect(feed.text.hasPrefix("BEGIN:VCALENDAR\r\n") && feed.text.hasSuffix("END:VCALENDAR\r\n"))
        #expect(feed.text.replacingOccurrences(of: "\r\n ", with: "").contains("SUMMARY:Meeting: Feed\\; item\\, with \\\\ specials"))
        #expect(feed.text.split(separator: "\r\n").allSatisfy { $0.utf8.count <= 75 }, "lines are folded")
        #expect(try await stranger.get("/calendar/\(String(repeating: "0", count: 64)).ics").status == 404)

        let renewed = try await browser.post("/activities/feed", [], csrf: try await browser.csrf(on: "/activities"))
        let second = try #require(Self.feedURL(renewed.text))
        #expect(try await stranger.get(path).status == 404, "the old URL stopped working")
        let secondPath = String(second[second.range(of: "/calendar/")!.lowerBound...])
        #expect(try await stranger.get(secondPath).status == 200)

        #expect(try await api.post("/api/v1/users/\(owner)/deactivate", [:]).status == 200)
        #expect(try await stranger.get(secondPath).status == 404, "a deactivated user's feed is gone")
        #expect(try await api.post("/api/v1/users/\(owner)/reactivate", [:]).status == 200)
        #expect(try await stranger.get(secondPath).status == 200)
        let again = WebClient()
        try await again.signIn(try #require(rep["email"] as? String), Self.password)
        #expect(try await again.post("/activities/feed/revoke", [], csrf: try await again.csrf(on: "/activities")).status == 303)
        #expect(try await stranger.get(secondPath).status == 404, "revoked")
    }

    static func feedURL(_ page: String) -> String? {
        guard let start = page.range(of: "<code id=\"feed-url\">"), let end = page.range(of: "</code>", range: start.upperBound..<page.endIndex) else { return nil }
        return String(page[start.upperBound..<end.lowerBound])
    }
}
