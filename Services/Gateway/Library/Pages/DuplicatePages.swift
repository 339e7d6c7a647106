import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// The duplicate scan's groups, each with a form to merge it: the survivor keeps its values,
/// blanks filled from the others, whose interactions, deals and activities follow it.
struct DuplicatePages: Sendable {
    let access: WebAccess
    let api: ServiceAPI

    var renderer: PageRenderer { access.renderer }

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/contacts/duplicates") { request, _, visit in
            try await groups(cursor: request.uri.queryParameters.get("cursor"), visit, error: nil)
        }
        access.page(router, .post, "/contacts/merge") { _, _, visit in
            let survivor = visit.form["survivor_id"] ?? ""
            let merged = visit.form.all("merged_ids").filter { $0 != survivor }
            guard !merged.isEmpty else {
                return try await groups(cursor: nil, visit, error: "Tick at least one contact to merge into the one that stays.")
            }
            let answer = try await api.call(
                .post, "/api/v1/contacts/merge", body: .object(["survivor_id": .string(survivor), "merged_ids": .array(merged.map(JSONValue.string))]),
                as: visit.caller
            )
            guard answer.ok else { return try await groups(cursor: nil, visit, error: answer.message) }
            throw PageOutcome.redirect("/contacts/\(survivor)")
        }
    }

    private func groups(cursor: String?, _ visit: WebAccess.Visit, error: String?) async throws -> Response {
        let answer = try await api.get("/api/v1/contacts/duplicates", query: [("limit", "25"), ("cursor", cursor)], as: visit.caller)
        let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
        var values = visit.values
        values["groups"] = (answer["items"]?.array ?? []).enumerated().map { index, group -> [String: Any] in
            // The oldest stays by default: it is the one the others were most likely copied from.
            let contacts = (group["contacts"]?.array ?? []).sorted { ($0["created_at"]?.string ?? "") < ($1["created_at"]?.string ?? "") }
            return [
                "index": index, "reason": (group["reason"]?.string ?? "").replacingOccurrences(of: "_", with: " "), "key": group["key"]?.string ?? "",
                "contacts": contacts.enumerated().map { position, contact -> [String: Any] in
                    StaffPages.compact([
                        "id": contact["id"]?.string ?? "", "name": StaffPages.name(contact), "company": contact["company"]?.string,
                        "emails": contact["emails"]?.array?.compactMap { $0.string ?? $0["address"]?.string }.joined(separator: ", "),
                        "phones": contact["phones"]?.array?.compactMap { $0.string ?? $0["number"]?.string }.joined(separator: ", "),
                        "created": StaffPages.local(contact["created_at"]?.string, zone), "first": position == 0,
                    ])
                },
            ]
        }
        if let next = answer["next_cursor"]?.string { values["next"] = StaffPages.query(["cursor": next]) }
        if let error { values["error"] = error }
        return renderer.page("duplicates", values, status: error == nil ? .ok : .unprocessableContent)
    }
}
