import Foundation
import Testing
import TestSupport

/// The administration pages against the running suite: users, teams, API keys and the services'
/// settings, each change visible through the API; none of it for a non-admin.
@Suite("Web administration", .timeLimit(.minutes(3)))
struct WebAdminTests {
    let api = APIClient()
    static let password = "a long enough secret 42"

    func admin() async throws -> WebClient {
        let user = try await api.newUser(role: "admin", password: Self.password, name: "Page Admin")
        let browser = WebClient()
        try await browser.signIn(try #require(user["email"] as? String), Self.password)
        return browser
    }

    @Test("a user who does not exist is a not-found page, for a look and for an action, never a failure")
    func unknownUser() async throws {
        let browser = try await admin()
        let nobody = UUID().uuidString.lowercased()
        let page = try await browser.get("/admin/users/\(nobody)")
        #expect(page.status == 404 && page.text.contains("Not found"), "\(page.status)")
        let action = try await browser.post("/admin/users/\(nobody)/deactivate", [], csrf: try await browser.csrf(on: "/admin/users"))
        #expect(action.status == 404 && action.text.contains("Not found"), "\(action.status)")
    }

    @Test("an admin edits a user's role, time zone, absence and teams; a stale form is a conflict that keeps what was typed")
    func editUser() async throws {
        let browser = try await admin()
        let team = try await api.post("/api/v1/teams", ["name": "Edit team \(UUID().uuidString.prefix(6))"])
        let teamId = try #require(team.json["id"] as? String)
        let user = try await api.newUser(role: "sales", password: Self.password, name: "To Edit")
        let id = try #require(user["id"] as? String)
        let page = "/admin/users/\(id)"
        let fields: [(String, String)] = [
            ("name", "Edited Name"), ("email", try #require(user["email"] as? String)), ("role", "support"), ("time_zone", "America/New_York"),
            ("away_from", "2031-07-01"), ("away_to", "2031-07-14"), ("team_ids", teamId),
        ]
        let stale = try await browser.post(page, fields + [("version", "0")], csrf: try await browser.csrf(on: page))
        #expect(stale.status == 409)
        #expect(stale.text.contains("Someone else changed this user") && stale.text.contains("Edited Name"))
        let badZone = try await browser.post(
            page, fields.map { $0.0 == "time_zone" ? ($0.0, "Mars/Olympus") : $0 } + [("version", "\(user["version"] ?? 1)")], csrf: try await browser.csrf(on: page)
        )
        #expect(badZone.status == 422 && badZone.text.contains("IANA time zone"))
        let saved = try await browser.post(page, fields + [("version", "\(user["version"] ?? 1)")], csrf: try await browser.csrf(on: page))
        #expect(saved.status == 303, "\(saved.text.prefix(400))")
        let now = try await api.get("/api/v1/users/\(id)").json
        #expect(now["role"] as? String == "support" && now["time_zone"] as? String == "America/New_York" && now["name"] as? String == "Edited Name")
        #expect((now["out_of_office"] as? [String: Any])?["to"] as? String == "2031-07-14")
        #expect(now["team_ids"] as? [String] == [teamId])
    }

    @Test("teams are made with a lead and members and deleted from their page; an API key made there works until revoked")
    func teamsAndKeys() async throws {
        let browser = try await admin()
        let member = try #require(try await api.newUser(role: "sales", password: Self.password)["id"] as? String)
        let name = "Page team \(UUID().uuidString.prefix(6))"
        let made = try await browser.post("/admin/teams", [("name", name), ("lead_id", member)], csrf: try await browser.csrf(on: "/admin/teams"))
        #expect(made.status == 303)
        let team = try #require(try await api.get("/api/v1/teams").items.first { $0["name"] as? String == name })
        #expect(team["member_ids"] as? [String] == [member], "the lead is a member")
        let unnamed = try await browser.post("/admin/teams", [("name", "")], csrf: try await browser.csrf(on: "/admin/teams"))
        #expect(unnamed.status == 422 && unnamed.text.contains("name"))
        let deleted = try await browser.post(
            "/admin/teams/\(team["id"]!)/delete", [("version", "\(team["version"] ?? 1)")], csrf: try await browser.csrf(on: "/admin/teams")
        )
        #expect(deleted.status == 303)
        #expect(try await api.get("/api/v1/teams/\(team["id"]!)").status == 404)

        let keyPage = try await browser.post("/admin/api-keys", [("name", "Page key"), ("role", "readonly")], csrf: try await browser.csrf(on: "/admin/api-keys"))
        #expect(keyPage.status == 200)
        let key = try #require(keyPage.text.range(of: "<code id=\"api-key\">").map { String(keyPage.text[$0.upperBound...].prefix { $0 != "<" }) })
        var machine = APIClient()
        machine.key = key
        #expect(try await machine.get("/api/v1/contacts?limit=1").status == 200)
        #expect(try await machine.post("/api/v1/contacts", ["last_name": "Readonly"]).status == 403, "the key has its role")
        let listed = try #require(try await api.get("/api/v1/api-keys").items.first { ($0["prefix"] as? String).map(key.hasPrefix) == true })
        #expect(try await browser.post("/admin/api-keys/\(listed["id"]!)/revoke", [], csrf: try await browser.csrf(on: "/admin/api-keys")).status == 303)
        #expect(try await machine.get("/api/v1/contacts?limit=1").status == 401)
    }

    @Test("stages, lost reasons, products, prices and custom fields are set from the settings pages, and refusals name the field")
    func settings() async throws {
        let browser = try await admin()
        let csrf = try await browser.csrf(on: "/admin/sales")
        let tag = UUID().uuidString.prefix(6).lowercased()
        #expect(try await browser.post("/admin/sales/pipelines", [("name", "Pipe \(tag)"), ("stages", "Talk 10, Offer made 60")], csrf: csrf).status == 303)
        let pipeline = try #require(try await api.get("/api/v1/pipelines").items.first { $0["name"] as? String == "Pipe \(tag)" })
        let stages = (pipeline["stages"] as? [[String: Any]] ?? []).map { "\($0["name"] ?? "") \($0["probability"] ?? "")" }
        #expect(stages == ["Talk 10", "Offer made 60"])
        let pipelineId = try #require(pipeline["id"] as? String)
        #expect(try await browser.post("/admin/sales/pipelines/\(pipelineId)/stages", [("name", "Signed"), ("probability", "90")], csrf: csrf).status == 303)
        let badStage = try await browser.post("/admin/sales/pipelines/\(pipelineId)/stages", [("name", "Odd"), ("probability", "190")], csrf: csrf)
        #expect(badStage.status == 422 && badStage.text.contains("probability"))

        #expect(try await browser.post("/admin/sales/lost-reasons", [("code", "page_\(tag)"), ("label", "Lost on the page")], csrf: csrf).status == 303)
        #expect(try await browser.post("/admin/sales/lost-reasons/page_\(tag)/retired", [("retired", "true")], csrf: csrf).status == 303)
        let reason = try #require(try await api.get("/api/v1/lost-reasons?limit=200").items.first { $0["code"] as? String == "page_\(tag)" })
        #expect(reason["retired"] as? Bool == true)

        let code = "PG-\(tag)"
        #expect(try await browser.post("/admin/sales/products", [("code", code), ("name", "Page product"), ("amount", "19.90"), ("currency", "EUR")], csrf: csrf).status == 303)
        let product = try #require(try await api.get("/api/v1/products?q=\(code)").items.first)
        let list = try await api.post("/api/v1/price-lists", ["name": "Page list \(tag)", "currency": "EUR"])
        let listId = try #require(list.json["id"] as? String)
        #expect(try await browser.post("/admin/sales/price-lists/\(listId)/prices", [("product_id", "\(product["id"]!)"), ("unit_price", "17.50"), ("currency", "EUR")], csrf: csrf).status == 303)
        let prices = try await api.get("/api/v1/price-lists/\(listId)").json["prices"] as? [[String: Any]] ?? []
        #expect((prices.first?["unit_price"] as? [String: Any])?["amount"] as? String == "17.50", "\(prices)")

        let fieldName = "page_\(tag)"
        let fields = "/admin/custom-fields"
        let made = try await browser.post(
            fields, [("entity", "contact"), ("name", fieldName), ("type", "enum"), ("allowed_values", "gold, silver")], csrf: try await browser.csrf(on: fields)
        )
        #expect(made.status == 303)
        let field = try #require(try await api.get("/api/v1/custom-fields").items.first { $0["name"] as? String == fieldName })
        #expect(field["allowed_values"] as? [String] == ["gold", "silver"])
        let badType = try await browser.post(fields, [("entity", "contact"), ("name", "x_\(tag)"), ("type", "colour")], csrf: try await browser.csrf(on: fields))
        #expect(badType.status == 422 && badType.text.contains("type"))
        #expect(try await browser.post("\(fields)/\(field["id"]!)/delete", [], csrf: try await browser.csrf(on: fields)).status == 303)
        #expect(try await api.get("/api/v1/custom-fields").items.allSatisfy { $0["name"] as? String != fieldName })
    }

    @Test("a sales rep is refused every administration page")
    func repRefused() async throws {
        let rep = try await api.newUser(role: "sales", password: Self.password)
        let browser = WebClient()
        try await browser.signIn(try #require(rep["email"] as? String), Self.password)
        for page in ["/admin/users", "/admin/teams", "/admin/api-keys", "/admin/sales", "/admin/custom-fields", "/admin/users/\(rep["id"]!)"] {
            #expect(try await browser.get(page).status == 403, "\(page)")
        }
    }
}
