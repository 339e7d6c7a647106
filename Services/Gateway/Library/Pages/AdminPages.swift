import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// Administration: the users (create, edit with their teams and absence, deactivate, reactivate,
/// reset a password). Only admins.
struct AdminPages: Sendable {
    let access: WebAccess
    let users: UserStore
    let teams: TeamStore

    var renderer: PageRenderer { access.renderer }
    static let admins: @Sendable (Role) -> Bool = { $0 == .admin }

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/admin/users", allowed: Self.admins) { _, _, visit in try await page(visit) }
        access.page(router, .post, "/admin/users", allowed: Self.admins) { request, _, visit in
            let form = visit.form
            let input = UserFields(
                name: form["name"], email: form["email"], role: form["role"].flatMap(Role.init(rawValue:)), teamIds: nil,
                timeZone: form["time_zone"], outOfOffice: nil
            )
            do {
                let (user, link) = try await users.create(input)
                return try await page(visit, link: (link, try user.json["name"]?.string ?? "", request))
            } catch let problem as Problem where (400..<500).contains(problem.statusCode) {
                var fieldErrors: [String: String] = [:]
                for error in problem.errors where fieldErrors[error.field] == nil { fieldErrors[error.field] = error.message }
                let formValues = ["name": form["name"], "email": form["email"], "time_zone": form["time_zone"]].compactMapValues { $0 }
                return try await page(
                    visit, error: fieldErrors.isEmpty ? problem.detail : "The user was not created; see the fields below.",
                    form: formValues, fieldErrors: fieldErrors, role: form["role"], status: .unprocessableContent
                )
            }
        }
        for (action, active) in [("deactivate", false), ("reactivate", true)] {
            access.page(router, .post, "/admin/users/:id/\(action)", allowed: Self.admins) { _, context, _ in
                _ = try await users.setActive(try context.uuidParameter("id"), active, expectedVersion: nil)
                throw PageOutcome.redirect("/admin/users")
            }
        }
        access.page(router, .get, "/admin/users/:id", allowed: Self.admins) { _, context, visit in
            try await edit(try context.uuidParameter("id"), visit, typed: nil, problem: nil)
        }
        access.page(router, .post, "/admin/users/:id", allowed: Self.admins) { _, context, visit in
            let id = try context.uuidParameter("id")
            let form = visit.form
            let absence: JSONValue = form["away_from"] == nil && form["away_to"] == nil
                ? .null : .object(["from": .string(form["away_from"] ?? ""), "to": .string(form["away_to"] ?? "")])
            let patch = JSONValue.object([
                "name": .string(form["name"] ?? ""), "email": .string(form["email"] ?? ""), "role": .string(form["role"] ?? ""),
                "time_zone": .string(form["time_zone"] ?? ""), "out_of_office": absence, "team_ids": .array(form.all("team_ids").map(JSONValue.string)),
            ])
            do {
                _ = try await users.update(id, patch: patch, expectedVersion: Int64(form["version"] ?? "") ?? 0)
            } catch let problem as Problem where (400..<500).contains(problem.statusCode) && problem.statusCode != 404 {
                return try await edit(id, visit, typed: form, problem: problem)
            }
            throw PageOutcome.redirect("/admin/users")
        }
        access.page(router, .post, "/admin/users/:id/password-link", allowed: Self.admins) { request, context, visit in
            let id = try context.uuidParameter("id")
            let link = try await users.resetLink(id)
            return try await page(visit, link: (link, try await users.get(id).json["name"]?.string ?? "", request))
        }
    }

    private func page(
        _ visit: WebAccess.Visit, link: (PasswordLink, String, Request)? = nil, error: String? = nil, form: [String: String] = [:],
        fieldErrors: [String: String] = [:], role: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        var values = visit.values
        let list = try await users.list()
        values["users"] = list.items.compactMap { text in
            (try? APICoding.decoder.decode(JSONValue.self, from: Data(text.utf8)))?.template
        }
        values["roles"] = Role.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == (role ?? "sales")] }
        values["form"] = form
        values["fieldErrors"] = fieldErrors
        if let error { values["error"] = error }
        if let (link, who, request) = link {
            let host = request.head.authority ?? "127.0.0.1"
            values["link"] = ["url": "\(access.secureCookies ? "https" : "http")://\(host)\(link.path)", "expires": link.expiresAt, "who": who]
        }
        return renderer.page("admin-users", values, status: status)
    }

    /// A user's form: as stored, or as typed with the refusal's messages beside the fields.
    private func edit(_ id: UUID, _ visit: WebAccess.Visit, typed: FormData?, problem: Problem?) async throws -> Response {
        let user: JSONValue
        do {
            user = try await users.get(id).json
        } catch let missing as Problem where missing.statusCode == 404 {
            throw PageOutcome.notFound
        }
        let chosenTeams = typed.map { Set($0.all("team_ids")) } ?? Set(user["team_ids"]?.array?.compactMap(\.string) ?? [])
        let role = typed?["role"] ?? user["role"]?.string ?? ""
        var values = visit.values
        values["user"] = [
            "id": id.lowercased, "version": user["version"]?.number.map { Int64($0) } ?? 0,
            "name": typed?["name"] ?? user["name"]?.string ?? "", "email": typed?["email"] ?? user["email"]?.string ?? "",
            "time_zone": typed?["time_zone"] ?? user["time_zone"]?.string ?? "",
            "away_from": typed?["away_from"] ?? user["out_of_office"]?["from"]?.string ?? "",
            "away_to": typed?["away_to"] ?? user["out_of_office"]?["to"]?.string ?? "",
        ] as [String: Any]
        values["roles"] = Role.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == role] }
        values["teams"] = try await teams.list().items.compactMap { text -> [String: Any]? in
            guard let team = try? APICoding.decoder.decode(JSONValue.self, from: Data(text.utf8)), let teamId = team["id"]?.string else { return nil }
            return ["id": teamId, "name": team["name"]?.string ?? "", "checked": chosenTeams.contains(teamId)]
        }
        var status = HTTPResponse.Status.ok
        if let problem {
            var fieldErrors: [String: String] = [:]
            // The template's keys have no dots (`out_of_office_to`); the first message of a field stays.
            for error in problem.errors {
                let key = error.field.replacingOccurrences(of: ".", with: "_")
                if fieldErrors[key] == nil { fieldErrors[key] = error.message }
            }
            values["fieldErrors"] = fieldErrors
            values["error"] = problem.statusCode == 412
                ? "Someone else changed this user meanwhile. The form shows what you typed over their version; save again to keep yours."
                : (fieldErrors.isEmpty ? problem.detail : "Not saved; see the fields below.")
            status = problem.statusCode == 412 ? .conflict : .unprocessableContent
        }
        return renderer.page("admin-user", values, status: status)
    }
}
