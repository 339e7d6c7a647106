import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// Administration: the users (create, deactivate, reactivate, reset a password). Only admins.
struct AdminPages: Sendable {
    let access: WebAccess
    let users: UserStore

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
}
