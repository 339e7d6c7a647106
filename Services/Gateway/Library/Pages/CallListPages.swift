import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// Call lists and the screen a caller works them from: the next contact with their numbers as
/// `tel:` links, the list's script, one button per outcome, and the progress so far.
struct CallListPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let users: UserStore

    var renderer: PageRenderer { access.renderer }
    /// The outcomes the sales API takes, as the caller's buttons name them.
    static let outcomes: [(value: String, label: String)] = [
        ("reached", "Reached"), ("interested", "Interested"), ("not_interested", "Not interested"), ("callback", "Call back"),
        ("no_answer", "No answer"), ("busy", "Busy"), ("voicemail", "Voicemail"), ("wrong_number", "Wrong number"),
    ]

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/call-lists") { request, _, visit in
            let owner = request.uri.queryParameters.get("owner")?.trimmed.nonEmpty
            let answer = try await api.get("/api/v1/call-lists", query: [("owner", owner), ("limit", "100")], as: visit.caller)
            let staff = try await users.names()
            var values = visit.values
            values["owners"] = staff.sorted { $0.value < $1.value }.map { ["id": $0.key, "name": $0.value, "selected": $0.key == owner] }
            values["lists"] = (answer["items"]?.array ?? []).map { list -> [String: Any] in
                let progress = list["progress"]
                return [
                    "id": list["id"]?.string ?? "", "name": list["name"]?.string ?? "", "owner": list["owner"]?.string.map { staff[$0] ?? $0 } ?? "",
                    "contacts": progress?["contacts"]?.number.map(Int.init) ?? 0, "called": progress?["called"]?.number.map(Int.init) ?? 0,
                ]
            }
            return renderer.page("call-lists", values)
        }
        access.page(router, .get, "/call-lists/:id") { request, context, visit in
            let skip = min(max(Int(request.uri.queryParameters.get("skip") ?? "") ?? 0, 0), 99)
            return try await screen(try context.uuidParameter("id").lowercased, skip: skip, visit, error: nil)
        }
        access.page(router, .post, "/call-lists/:id/calls/:contact") { request, context, visit in
            let id = try context.uuidParameter("id").lowercased
            let contact = try context.uuidParameter("contact").lowercased
            var body: [String: JSONValue] = ["outcome": .string(visit.form["outcome"] ?? ""), "called_by": .string(visit.session.userId.lowercased)]
            if let notes = visit.form["notes"] { body["notes"] = .string(notes) }
            let answer = try await api.call(
                .post, "/api/v1/call-lists/{id}/entries/{contact_id}/calls", ["id": id, "contact_id": contact], body: .object(body), as: visit.caller
            )
            guard answer.ok else { return try await screen(id, skip: 0, visit, error: answer.message) }
            throw PageOutcome.redirect("/call-lists/\(id)")
        }
    }

    private func screen(_ id: String, skip: Int, _ visit: WebAccess.Visit, error: String?) async throws -> Response {
        let listAnswer = try await api.call(.get, "/api/v1/call-lists/{id}", ["id": id], as: visit.caller)
        guard listAnswer.status != 404 else { throw PageOutcome.notFound }
        let list = listAnswer.json
        async let waiting = api.get("/api/v1/call-lists/{id}/entries", ["id": id], query: [("to_call", "true"), ("limit", "\(skip + 1)")], as: visit.caller)
        async let everyone = api.get("/api/v1/call-lists/{id}/entries", ["id": id], query: [("limit", "200")], as: visit.caller)
        let staff = try await users.names()
        let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
        let progress = list["progress"]
        let total = progress?["contacts"]?.number.map(Int.init) ?? 0
        let called = progress?["called"]?.number.map(Int.init) ?? 0
        var values = visit.values
        values["id"] = id
        values["name"] = list["name"]?.string ?? ""
        values["script"] = list["script"]?.string ?? ""
        values["total"] = total
        values["called"] = called
        values["percent"] = total == 0 ? 100 : called * 100 / total
        values["outcomeCounts"] = (progress?["outcomes"]?.object ?? [:]).sorted { $0.key < $1.key }.map {
            ["outcome": $0.key.replacingOccurrences(of: "_", with: " "), "count": $0.value.number.map(Int.init) ?? 0]
        }
        let candidates = try await waiting["items"]?.array ?? []
        if let entry = candidates.last, candidates.count == skip + 1, let contactId = entry["contact_id"]?.string {
            let contact = try await api.call(.get, "/api/v1/contacts/{id}", ["id": contactId], as: visit.caller).json
            values["next"] = StaffPages.compact([
                "contactId": contactId, "name": entry["name"]?.string ?? StaffPages.name(contact), "company": entry["company"]?.string,
                "position": contact["position"]?.string, "region": entry["region"]?.string,
                "phones": (contact["phones"]?.array ?? []).compactMap { phone -> [String: String]? in
                    guard let number = phone["number"]?.string else { return nil }
                    return ["number": number, "dial": number.filter { $0.isNumber || $0 == "+" }, "kind": phone["kind"]?.string ?? ""]
                },
                "emails": contact["emails"]?.array?.compactMap { $0["address"]?.string },
            ])
            values["outcomes"] = Self.outcomes.map { ["value": $0.value, "label": $0.label] }
            values["skipNext"] = skip + 1
        }
        values["entries"] = (try await everyone["items"]?.array ?? []).map { entry -> [String: Any] in
            StaffPages.compact([
                "contactId": entry["contact_id"]?.string ?? "", "name": entry["name"]?.string ?? "", "company": entry["company"]?.string ?? "",
                "outcome": entry["outcome"]?.string?.replacingOccurrences(of: "_", with: " "), "notes": entry["notes"]?.string,
                "when": entry["called_at"]?.string.map { StaffPages.local($0, zone) },
                "by": entry["called_by"]?.string.map { staff[$0] ?? $0 }, "calls": entry["calls"]?.number.map(Int.init) ?? 0,
            ])
        }
        if let error { values["error"] = error }
        return renderer.page("call-list", values, status: error == nil ? .ok : .unprocessableContent)
    }
}
