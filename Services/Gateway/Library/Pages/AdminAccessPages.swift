import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// Administration of who works together and which machines may call: teams (name, lead, members)
/// and API keys (made with a role, shown once, revoked). Only admins.
struct AdminAccessPages: Sendable {
    let access: WebAccess
    let users: UserStore
    let teams: TeamStore
    let keys: APIKeyStore

    var renderer: PageRenderer { access.renderer }

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/admin/teams", allowed: AdminPages.admins) { _, _, visit in try await teamsPage(visit, problem: nil) }
        access.page(router, .post, "/admin/teams", allowed: AdminPages.admins) { _, _, visit in
            do {
                _ = try await teams.create(Self.teamFields(visit.form))
            } catch let problem as Problem where (400..<500).contains(problem.statusCode) {
                return try await teamsPage(visit, problem: problem)
            }
            throw PageOutcome.redirect("/admin/teams")
        }
        access.page(router, .post, "/admin/teams/:id", allowed: AdminPages.admins) { _, context, visit in
            let fields = Self.teamFields(visit.form)
            let patch = JSONValue.object([
                "name": .string(fields.name ?? ""), "lead_id": fields.leadId.map { .string($0.lowercased) } ?? .null,
                "member_ids": .array((fields.memberIds ?? []).map { .string($0.lowercased) }),
            ])
            do {
                _ = try await teams.update(try context.uuidParameter("id"), patch: patch, expectedVersion: Int64(visit.form["version"] ?? "") ?? 0)
            } catch let problem as Problem where (400..<500).contains(problem.statusCode) {
                return try await teamsPage(visit, problem: problem)
            }
            throw PageOutcome.redirect("/admin/teams")
        }
        access.page(router, .post, "/admin/teams/:id/delete", allowed: AdminPages.admins) { _, context, visit in
            do {
                try await teams.delete(try context.uuidParameter("id"), expectedVersion: Int64(visit.form["version"] ?? ""))
            } catch let problem as Problem where (400..<500).contains(problem.statusCode) {
                return try await teamsPage(visit, problem: problem)
            }
            throw PageOutcome.redirect("/admin/teams")
        }
        access.page(router, .get, "/admin/api-keys", allowed: AdminPages.admins) { _, _, visit in try await keysPage(visit, made: nil, problem: nil) }
        access.page(router, .post, "/admin/api-keys", allowed: AdminPages.admins) { _, _, visit in
            guard let role = visit.form["role"].flatMap(Role.init(rawValue:)) else {
                return try await keysPage(visit, made: nil, problem: Problem.validation([FieldError("role", "choose a role")]))
            }
            do {
                let made = try APICoding.decoder.decode(JSONValue.self, from: Data(try await keys.create(.init(name: visit.form["name"] ?? "", role: role)).utf8))
                return try await keysPage(visit, made: made, problem: nil)
            } catch let problem as Problem where (400..<500).contains(problem.statusCode) {
                return try await keysPage(visit, made: nil, problem: problem)
            }
        }
        access.page(router, .post, "/admin/api-keys/:id/revoke", allowed: AdminPages.admins) { _, context, _ in
            try await keys.revoke(try context.uuidParameter("id"))
            throw PageOutcome.redirect("/admin/api-keys")
        }
    }

    static func teamFields(_ form: FormData) -> TeamStore.Fields {
        TeamStore.Fields(name: form["name"], leadId: form["lead_id"].flatMap(UUID.init(uuidString:)), memberIds: form.all("member_ids").compactMap(UUID.init(uuidString:)))
    }

    private func teamsPage(_ visit: WebAccess.Visit, problem: Problem?) async throws -> Response {
        let staff = try await users.names()
        var values = visit.values
        values["teams"] = try await teams.list().items.compactMap { text -> [String: Any]? in
            guard let team = try? APICoding.decoder.decode(JSONValue.self, from: Data(text.utf8)) else { return nil }
            let members = Set(team["member_ids"]?.array?.compactMap(\.string) ?? [])
            let lead = team["lead_id"]?.string
            return StaffPages.compact([
                "id": team["id"]?.string ?? "", "name": team["name"]?.string ?? "", "version": team["version"]?.number.map { Int64($0) } ?? 0,
                "lead": lead.map { staff[$0] ?? $0 }, "members": members.compactMap { staff[$0] }.sorted().joined(separator: ", ").nonEmpty,
                "people": staff.sorted { $0.value < $1.value }.map { ["id": $0.key, "name": $0.value, "member": members.contains($0.key), "lead": $0.key == lead] },
            ])
        }
        values["people"] = staff.sorted { $0.value < $1.value }.map { ["id": $0.key, "name": $0.value] }
        if let problem { values["error"] = Self.explain(problem) }
        return renderer.page("admin-teams", values, status: problem.map { .init(code: $0.statusCode) } ?? .ok)
    }

    private func keysPage(_ visit: WebAccess.Visit, made: JSONValue?, problem: Problem?) async throws -> Response {
        let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
        var values = visit.values
        values["keys"] = try await keys.list().items.compactMap { text -> [String: Any]? in
            guard let key = try? APICoding.decoder.decode(JSONValue.self, from: Data(text.utf8)) else { return nil }
            return StaffPages.compact([
                "id": key["id"]?.string ?? "", "name": key["name"]?.string ?? "", "role": key["role"]?.string ?? "", "prefix": key["prefix"]?.string ?? "",
                "created": StaffPages.local(key["created_at"]?.string, zone), "revoked": key["revoked_at"]?.string.map { StaffPages.local($0, zone) },
            ])
        }
        values["roles"] = Role.allCases.map { ["value": $0.rawValue, "selected": $0 == .readonly] }
        if let made { values["made"] = ["name": made["name"]?.string ?? "", "key": made["key"]?.string ?? ""] }
        if let problem { values["error"] = Self.explain(problem) }
        return renderer.page("admin-api-keys", values, status: problem.map { .init(code: $0.statusCode) } ?? .ok)
    }

    /// A refusal in one sentence, naming its fields.
    static func explain(_ problem: Problem) -> String {
        if problem.statusCode == 412 { return "Someone else changed it meanwhile; this is the current state. Try again." }
        return problem.errors.isEmpty ? (problem.detail ?? "Not done.") : problem.errors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
    }
}
