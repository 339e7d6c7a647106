import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// Leads: the list, and qualify, disqualify with a reason, or convert into a deal, each a form.
struct LeadPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let users: UserStore

    var renderer: PageRenderer { access.renderer }
    static let statuses = ["new", "contacted", "qualified", "disqualified", "converted"]

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/leads") { request, _, visit in try await list(request, visit, error: nil) }
        for action in ["qualify", "disqualify", "convert"] {
            access.page(router, .post, "/leads/:id/\(action)") { request, context, visit in
                let id = try context.uuidParameter("id").lowercased
                var body: [String: JSONValue] = [:]
                if let reason = visit.form["reason"] { body["reason"] = .string(reason) }
                if action == "convert" {
                    let lead = try await api.get("/api/v1/leads/{id}", ["id": id], as: visit.caller)
                    let title = lead["company"]?.string ?? StaffPages.name(lead)
                    let currency = visit.form["currency"]?.trimmed.uppercased().nonEmpty ?? "EUR"
                    var deal: [String: JSONValue] = [
                        "title": .string("\(title): first order"),
                        "amount": .object(["amount": .string(visit.form["amount"] ?? ""), "currency": .string(currency)]),
                    ]
                    // The lead's owner passes to its deal in sales; a lead nobody owns goes to whoever converts it.
                    if lead["owner"]?.string == nil { deal["owner"] = .string(visit.session.userId.lowercased) }
                    body["deal"] = .object(deal)
                    body["create_account"] = .bool(lead["company"]?.string != nil)
                }
                let answer = try await api.call(
                    .post, "/api/v1/leads/{id}/\(action)", ["id": id], body: DealPages.versioned(body, visit.form["version"].flatMap(Int64.init)),
                    as: visit.caller
                )
                guard answer.ok else { return try await list(request, visit, error: answer.message) }
                if action == "convert", let deal = answer.json["deal_id"]?.string ?? answer.json["deal"]?["id"]?.string {
                    throw PageOutcome.redirect("/deals/\(deal)")
                }
                throw PageOutcome.redirect((request.headers[.referer].flatMap(DealPages.localPath) ?? "/leads") + "#lead-\(id)")
            }
        }
    }

    private func list(_ request: Request, _ visit: WebAccess.Visit, error: String?) async throws -> Response {
        let status = request.uri.queryParameters.get("status")?.trimmed.nonEmpty
        let owner = request.uri.queryParameters.get("owner")?.trimmed.nonEmpty
        // Newest first, what came in today; without a status, the work still to do.
        let answer = try await api.call(
            .get, "/api/v1/leads",
            query: [("status", status ?? "new,contacted,qualified"), ("owner", owner), ("order", "newest"), ("limit", "100"),
                    ("cursor", request.uri.queryParameters.get("cursor"))],
            as: visit.caller
        )
        let staff = try await users.names()
        let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
        var values = visit.values
        values["statuses"] = Self.statuses.map { ["value": $0, "selected": $0 == status] }
        values["owners"] = staff.sorted { $0.value < $1.value }.map { ["id": $0.key, "name": $0.value, "selected": $0.key == owner] }
        values["leads"] = (answer.json["items"]?.array ?? []).map { lead -> [String: Any] in
            let state = lead["status"]?.string ?? ""
            return StaffPages.compact([
                "id": lead["id"]?.string ?? "", "name": StaffPages.name(lead), "email": lead["email"]?.string, "company": lead["company"]?.string ?? "",
                "source": lead["source"]?.string?.replacingOccurrences(of: "_", with: " ") ?? "", "status": state,
                "reason": lead["disqualify_reason"]?.string, "owner": lead["owner"]?.string.map { staff[$0] ?? $0 } ?? "",
                "created": StaffPages.local(lead["created_at"]?.string, zone), "version": lead["version"]?.number.map { Int64($0) } ?? 0,
                "notes": lead["notes"]?.string, "dealId": lead["deal_id"]?.string,
                "canQualify": state == "new" || state == "contacted", "canDisqualify": state != "converted" && state != "disqualified",
                "canConvert": state != "converted" && state != "disqualified",
            ])
        }
        if let next = answer.json["next_cursor"]?.string {
            values["next"] = StaffPages.query(["status": status, "owner": owner, "cursor": next].compactMapValues { $0 })
        }
        let shown = error ?? (answer.ok ? nil : answer.detail)
        if let shown { values["error"] = shown }
        return renderer.page("leads", values, status: shown == nil ? .ok : .conflict)
    }
}
