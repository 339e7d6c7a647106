import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// Editing a contact. The form carries the version it was read at; when someone else saved in
/// between, the service refuses the stale version (412) and the page shows their version beside
/// the form, which still holds everything typed: a conflict, never a silent overwrite or a loss.
struct ContactEditPage: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let users: UserStore

    var renderer: PageRenderer { access.renderer }

    enum Kind { case plain, lines, options([(value: String, text: String)]) }

    static let enums: [String: [String]] = [
        "customer_type": StaffPages.customerTypes,
        "lead_source": ["", "advertising", "referral", "web", "exhibition", "cold_call", "other"],
        "purchase_purpose": ["", "resale", "own_use", "other"],
        "payment_method": ["", "cash", "card", "invoice", "bank_transfer", "direct_debit", "other"],
    ]

    static let fields: [(name: String, label: String)] = [
        ("first_name", "First name"), ("last_name", "Last name"), ("position", "Position"), ("company", "Company"),
        ("emails", "E-mail addresses"), ("phones", "Phone numbers"), ("owner", "Owner"), ("customer_type", "Customer type"),
        ("lead_source", "Lead source"), ("purchase_purpose", "Purchase purpose"), ("payment_method", "Payment method"),
        ("preferred_language", "Language"), ("tags", "Tags (comma-separated)"),
    ]

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/contacts/:id/edit") { _, context, visit in
            let id = try context.uuidParameter("id").lowercased
            let contact = try await api.get("/api/v1/contacts/{id}", ["id": id], as: visit.caller)
            return try await page(id, contact, typed: Self.formValues(contact), visit, conflict: nil, errors: [:], error: nil)
        }
        access.page(router, .post, "/contacts/:id/edit") { _, context, visit in
            let id = try context.uuidParameter("id").lowercased
            var typed: [String: String] = [:]
            for field in Self.fields { typed[field.name] = visit.form.raw(field.name)?.trimmed ?? "" }
            let current = try await api.get("/api/v1/contacts/{id}", ["id": id], as: visit.caller)
            let answer = try await api.call(
                .patch, "/api/v1/contacts/{id}", ["id": id], body: Self.patch(typed, current: current),
                ifMatch: "\"\(visit.form["version"] ?? "0")\"", as: visit.caller
            )
            switch answer.status {
            case 200..<300: throw PageOutcome.redirect("/contacts/\(id)")
            case 412: return try await page(id, current, typed: typed, visit, conflict: current, errors: [:], error: nil)
            default:
                var errors: [String: String] = [:]
                for (field, message) in answer.fieldErrors {
                    let name = String(field.prefix { $0 != "[" && $0 != "." })
                    if errors[name] == nil { errors[name] = message }
                }
                return try await page(id, current, typed: typed, visit, conflict: nil, errors: errors, error: errors.isEmpty ? answer.detail : nil,
                                      version: visit.form["version"])
            }
        }
    }

    private func page(
        _ id: String, _ contact: JSONValue, typed: [String: String], _ visit: WebAccess.Visit, conflict: JSONValue?,
        errors: [String: String], error: String?, version: String? = nil
    ) async throws -> Response {
        // Names for every owner shown; only active users are offered (the services refuse others).
        async let named = users.names()
        async let active = users.names(activeOnly: true)
        let (staff, choosable) = try await (named, active)
        var values = visit.values
        values["id"] = id
        values["name"] = StaffPages.name(contact)
        // After a conflict the form carries their version: saving again is a choice made seeing it.
        values["version"] = version ?? contact["version"]?.number.map { "\(Int64($0))" } ?? "0"
        values["fields"] = Self.fields.map { field -> [String: Any] in
            var item: [String: Any] = ["name": field.name, "label": field.label]
            let value = typed[field.name] ?? ""
            switch kind(of: field.name, choosable: choosable, names: staff, current: value) {
            case .plain: item["plain"] = ["value": value]
            case .lines: item["lines"] = ["value": value]
            case let .options(choices):
                item["options"] = ["choices": choices.map { ["value": $0.value, "text": $0.text, "selected": $0.value == value] }]
            }
            if let message = errors[field.name] { item["error"] = message }
            return item
        }
        if let theirs = conflict {
            values["conflict"] = true
            let shown = Self.formValues(theirs)
            values["theirs"] = Self.fields.compactMap { field -> [String: String]? in
                guard let value = shown[field.name], !value.isEmpty else { return nil }
                return ["label": field.label, "value": field.name == "owner" ? (staff[value] ?? value) : value]
            }
        }
        if let error { values["error"] = error }
        return renderer.page("contact-edit", values, status: conflict != nil ? .conflict : (errors.isEmpty && error == nil ? .ok : .unprocessableContent))
    }

    private func kind(of name: String, choosable staff: [String: String], names: [String: String], current: String) -> Kind {
        if name == "emails" || name == "phones" { return .lines }
        if name == "owner" {
            var choices: [(value: String, text: String)] = [("", "nobody")] + staff.sorted { $0.value < $1.value }.map { ($0.key, $0.value) }
            // The current owner stays choosable as it is: a user deactivated since, or a name
            // written as text before owners were users (which the services keep while unchanged).
            if !current.isEmpty, staff[current] == nil { choices.append((current, names[current] ?? current)) }
            return .options(choices)
        }
        if let values = Self.enums[name] { return .options(values.map { ($0, $0.isEmpty ? "—" : $0.replacingOccurrences(of: "_", with: " ")) }) }
        return .plain
    }

    /// The contact's fields as the form writes them.
    static func formValues(_ contact: JSONValue) -> [String: String] {
        var values: [String: String] = [:]
        for field in fields {
            switch field.name {
            case "emails", "phones":
                let member = field.name == "emails" ? "address" : "number"
                let items = contact[field.name]?.array ?? []
                let ordered = items.filter { $0["primary"]?.bool == true } + items.filter { $0["primary"]?.bool != true }
                values[field.name] = ordered.compactMap { $0[member]?.string }.joined(separator: "\n")
            case "tags": values["tags"] = (contact["tags"]?.array ?? []).compactMap(\.string).joined(separator: ", ")
            default: values[field.name] = contact[field.name]?.string ?? ""
            }
        }
        return values
    }

    /// A merge patch of what the form holds; e-mails and phones keep the labels they had.
    static func patch(_ typed: [String: String], current: JSONValue) -> JSONValue {
        var patch: [String: JSONValue] = [:]
        for field in fields {
            let value = typed[field.name] ?? ""
            switch field.name {
            case "emails", "phones":
                let member = field.name == "emails" ? "address" : "number"
                let existing = current[field.name]?.array ?? []
                let lines = value.split(whereSeparator: \.isNewline).map { $0.trimmed }.filter { !$0.isEmpty }
                patch[field.name] = .array(lines.enumerated().map { index, line in
                    var item: [String: JSONValue] = [member: .string(line), "primary": .bool(index == 0)]
                    if let label = existing.first(where: { $0[member]?.string == line })?["label"], label != .null { item["label"] = label }
                    return .object(item)
                })
            case "tags":
                patch["tags"] = .array(value.split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }.map(JSONValue.string))
            case "customer_type":
                if !value.isEmpty { patch["customer_type"] = .string(value) }
            default:
                patch[field.name] = value.isEmpty ? .null : .string(value)
            }
        }
        return .object(patch)
    }
}
