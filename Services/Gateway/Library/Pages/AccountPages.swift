import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// Accounts: the list with the API's filters and keyset paging, and an account's page with its contacts.
struct AccountPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let users: UserStore

    var renderer: PageRenderer { access.renderer }
    static let filters = ["q", "owner", "tag", "country"]

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/accounts") { request, _, visit in
            var filter: [String: String] = [:]
            for name in Self.filters {
                if let value = request.uri.queryParameters.get(name)?.trimmed, !value.isEmpty { filter[name] = value }
            }
            let answer = try await api.call(
                .get, "/api/v1/accounts",
                query: Self.filters.map { ($0, filter[$0]) } + [("cursor", request.uri.queryParameters.get("cursor")), ("limit", "50")],
                as: visit.caller
            )
            let staff = try await users.names()
            var values = visit.values
            values["filter"] = filter
            if answer.ok {
                values["accounts"] = (answer.json["items"]?.array ?? []).map { account -> [String: Any] in
                    ["id": account["id"]?.string ?? "", "name": account["name"]?.string ?? "", "industry": account["industry"]?.string ?? "",
                     "city": account["address"]?["city"]?.string ?? "", "owner": account["owner"]?.string.map { staff[$0] ?? $0 } ?? ""]
                }
                if let next = answer.json["next_cursor"]?.string { values["next"] = StaffPages.query(filter.merging(["cursor": next]) { $1 }) }
            } else {
                values["accounts"] = [Any]()
                values["error"] = answer.message
            }
            return renderer.page("accounts", values, status: answer.ok ? .ok : .unprocessableContent)
        }
        access.page(router, .get, "/accounts/:id") { request, context, visit in
            let id = try context.uuidParameter("id").lowercased
            async let accountRead = api.get("/api/v1/accounts/{id}", ["id": id], as: visit.caller)
            async let contactsRead = api.get(
                "/api/v1/accounts/{id}/contacts", ["id": id], query: [("limit", "100"), ("cursor", request.uri.queryParameters.get("cursor"))],
                as: visit.caller
            )
            let (account, contacts) = try await (accountRead, contactsRead)
            let staff = try await users.names()
            var values = visit.values
            values["id"] = id
            values["name"] = account["name"]?.string ?? ""
            var facts: [[String: String]] = []
            for (label, value) in [
                ("Legal name", account["legal_name"]?.string), ("Tax id", account["tax_id"]?.string), ("Industry", account["industry"]?.string),
                ("Size", account["size_band"]?.string), ("Website", account["website"]?.string),
                ("Address", ["street", "postal_code", "city", "country"].compactMap { account["address"]?[$0]?.string }.joined(separator: ", ").nonEmpty),
                ("Owner", account["owner"]?.string.map { staff[$0] ?? $0 }),
                ("Tags", (account["tags"]?.array ?? []).compactMap(\.string).joined(separator: ", ").nonEmpty),
            ] {
                if let value { facts.append(["label": label, "value": value]) }
            }
            values["facts"] = facts
            values["contacts"] = (contacts["items"]?.array ?? []).map {
                ["id": $0["id"]?.string ?? "", "name": StaffPages.name($0), "position": $0["position"]?.string ?? ""]
            }
            if let next = contacts["next_cursor"]?.string { values["next"] = next }
            return renderer.page("account", values)
        }
    }
}
