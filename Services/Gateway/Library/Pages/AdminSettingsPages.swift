import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// Administration of what the services are set up with, through their API as the admin:
/// pipelines and stages, lost reasons, products and price lists (sales), custom fields (contacts).
struct AdminSettingsPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI

    var renderer: PageRenderer { access.renderer }

    /// A form's post: the API call it makes, and where the page goes after it succeeded.
    private typealias Change = @Sendable (FormData, ServiceRequestContext, Caller) async throws -> ServiceAPI.Answer

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/admin/sales", allowed: AdminPages.admins) { _, _, visit in try await salesPage(visit, error: nil) }
        access.page(router, .get, "/admin/custom-fields", allowed: AdminPages.admins) { _, _, visit in try await fieldsPage(visit, error: nil) }
        let sales: [(String, String, Change)] = [
            ("/admin/sales/pipelines", "#pipelines", { form, _, caller in
                // "Qualification 10, Proposal 50": each stage's name and then its probability.
                let stages = (form["stages"] ?? "").split(separator: ",").map { part -> JSONValue in
                    let words = part.split(separator: " ")
                    let probability = words.last.flatMap { Double($0) }
                    let name = (probability == nil ? words : words.dropLast()).joined(separator: " ")
                    return .object(["name": .string(name), "probability": probability.map(JSONValue.number) ?? .string(String(words.last ?? ""))])
                }
                return try await api.call(.post, "/api/v1/pipelines", body: .object(["name": .string(form["name"] ?? ""), "stages": .array(stages)]), as: caller)
            }),
            ("/admin/sales/pipelines/:id/stages", "#pipelines", { form, context, caller in
                try await api.call(
                    .post, "/api/v1/pipelines/{id}/stages", ["id": try context.uuidParameter("id").lowercased],
                    body: .object(["name": .string(form["name"] ?? ""), "probability": Self.number(form["probability"])]), as: caller
                )
            }),
            ("/admin/sales/pipelines/:id/stages/:stage/retire", "#pipelines", { _, context, caller in
                try await api.call(
                    .delete, "/api/v1/pipelines/{id}/stages/{stage_id}",
                    ["id": try context.uuidParameter("id").lowercased, "stage_id": try context.uuidParameter("stage").lowercased], as: caller
                )
            }),
            ("/admin/sales/lost-reasons", "#lost-reasons", { form, _, caller in
                try await api.call(.post, "/api/v1/lost-reasons", body: .object(["code": .string(form["code"] ?? ""), "label": .string(form["label"] ?? "")]), as: caller)
            }),
            ("/admin/sales/lost-reasons/:code/retired", "#lost-reasons", { form, context, caller in
                try await api.call(
                    .patch, "/api/v1/lost-reasons/{code}", ["code": context.parameters.get("code") ?? ""],
                    body: .object(["retired": .bool(form["retired"] == "true")]), as: caller
                )
            }),
            ("/admin/sales/products", "#products", { form, _, caller in
                var body: [String: JSONValue] = [
                    "code": .string(form["code"] ?? ""), "name": .string(form["name"] ?? ""),
                    "base_price": .object(["amount": .string(form["amount"] ?? ""), "currency": .string((form["currency"] ?? "EUR").uppercased())]),
                ]
                if let unit = form["unit"] { body["unit"] = .string(unit) }
                return try await api.call(.post, "/api/v1/products", body: .object(body), as: caller)
            }),
            ("/admin/sales/products/:id/active", "#products", { form, context, caller in
                try await api.call(
                    .patch, "/api/v1/products/{id}", ["id": try context.uuidParameter("id").lowercased],
                    body: DealPages.versioned(["active": .bool(form["active"] == "true")], form["version"].flatMap(Int64.init)), as: caller
                )
            }),
            ("/admin/sales/price-lists", "#price-lists", { form, _, caller in
                var body: [String: JSONValue] = ["name": .string(form["name"] ?? ""), "currency": .string((form["currency"] ?? "EUR").uppercased())]
                if let group = form["customer_group"] { body["customer_group"] = .string(group) }
                return try await api.call(.post, "/api/v1/price-lists", body: .object(body), as: caller)
            }),
            ("/admin/sales/price-lists/:id/prices", "#price-lists", { form, context, caller in
                try await api.call(
                    .put, "/api/v1/price-lists/{id}/prices/{product_id}",
                    ["id": try context.uuidParameter("id").lowercased, "product_id": form["product_id"] ?? ""],
                    body: .object(["unit_price": .object(["amount": .string(form["unit_price"] ?? ""), "currency": .string(form["currency"] ?? "")])]),
                    as: caller
                )
            }),
        ]
        for (path, anchor, change) in sales {
            access.page(router, .post, path, allowed: AdminPages.admins) { _, context, visit in
                let answer = try await change(visit.form, context, visit.caller)
                guard answer.ok else { return try await salesPage(visit, error: answer.message) }
                throw PageOutcome.redirect("/admin/sales" + anchor)
            }
        }
        access.page(router, .post, "/admin/custom-fields", allowed: AdminPages.admins) { _, _, visit in
            let form = visit.form
            var body: [String: JSONValue] = [
                "entity": .string(form["entity"] ?? ""), "name": .string(form["name"] ?? ""), "type": .string(form["type"] ?? ""),
                "required": .bool(form["required"] == "true"),
            ]
            if let label = form["label"] { body["label"] = .string(label) }
            let allowed = (form["allowed_values"] ?? "").split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }
            if !allowed.isEmpty { body["allowed_values"] = .array(allowed.map(JSONValue.string)) }
            let answer = try await api.call(.post, "/api/v1/custom-fields", body: .object(body), as: visit.caller)
            guard answer.ok else { return try await fieldsPage(visit, error: answer.message) }
            throw PageOutcome.redirect("/admin/custom-fields")
        }
        access.page(router, .post, "/admin/custom-fields/:id/delete", allowed: AdminPages.admins) { _, context, visit in
            let answer = try await api.call(.delete, "/api/v1/custom-fields/{id}", ["id": try context.uuidParameter("id").lowercased], as: visit.caller)
            guard answer.ok else { return try await fieldsPage(visit, error: answer.message) }
            throw PageOutcome.redirect("/admin/custom-fields")
        }
    }

    static func number(_ text: String?) -> JSONValue {
        guard let text else { return .null }
        return Double(text).map(JSONValue.number) ?? .string(text)
    }

    private func salesPage(_ visit: WebAccess.Visit, error: String?) async throws -> Response {
        async let pipelines = api.get("/api/v1/pipelines", as: visit.caller)
        async let reasons = api.get("/api/v1/lost-reasons", query: [("limit", "200")], as: visit.caller)
        async let active = api.get("/api/v1/products", query: [("limit", "200")], as: visit.caller)
        async let retired = api.get("/api/v1/products", query: [("active", "false"), ("limit", "200")], as: visit.caller)
        async let priceLists = api.get("/api/v1/price-lists", query: [("limit", "100")], as: visit.caller)
        var values = visit.values
        values["pipelines"] = (try await pipelines["items"]?.array ?? []).map { pipeline -> [String: Any] in
            let id = pipeline["id"]?.string ?? ""
            return [
                "id": id, "name": pipeline["name"]?.string ?? "", "isDefault": pipeline["is_default"]?.bool ?? false,
                "stages": (pipeline["stages"]?.array ?? []).map {
                    ["pipelineId": id, "id": $0["id"]?.string ?? "", "name": $0["name"]?.string ?? "", "probability": $0["probability"]?.number.map { Int($0) } ?? 0]
                },
            ]
        }
        values["reasons"] = (try await reasons["items"]?.array ?? []).map {
            ["code": $0["code"]?.string ?? "", "label": $0["label"]?.string ?? "", "retired": $0["retired"]?.bool ?? false]
        }
        let products = (try await active["items"]?.array ?? []) + (try await retired["items"]?.array ?? [])
        values["products"] = products.map { product -> [String: Any] in
            [
                "id": product["id"]?.string ?? "", "code": product["code"]?.string ?? "", "name": product["name"]?.string ?? "",
                "unit": product["unit"]?.string ?? "", "price": StaffPages.money(product["base_price"]), "active": product["active"]?.bool ?? true,
                "version": product["version"]?.number.map { Int64($0) } ?? 0,
            ]
        }
        let names = Dictionary(products.compactMap { p in p["id"]?.string.map { ($0, p["name"]?.string ?? "") } }, uniquingKeysWith: { a, _ in a })
        values["priceLists"] = (try await priceLists["items"]?.array ?? []).map { list -> [String: Any] in
            StaffPages.compact([
                "id": list["id"]?.string ?? "", "name": list["name"]?.string ?? "", "currency": list["currency"]?.string ?? "",
                "group": list["customer_group"]?.string,
                "prices": (list["prices"]?.array ?? []).map {
                    ["product": names[$0["product_id"]?.string ?? ""] ?? $0["product_code"]?.string ?? "", "price": StaffPages.money($0["unit_price"])]
                },
            ])
        }
        values["activeProducts"] = products.filter { $0["active"]?.bool != false }.map { ["id": $0["id"]?.string ?? "", "name": $0["name"]?.string ?? ""] }
        values["customerTypes"] = StaffPages.customerTypes
        if let error { values["error"] = error }
        return renderer.page("admin-sales", values, status: error == nil ? .ok : .unprocessableContent)
    }

    private func fieldsPage(_ visit: WebAccess.Visit, error: String?) async throws -> Response {
        let fields = try await api.get("/api/v1/custom-fields", as: visit.caller)
        var values = visit.values
        values["fields"] = (fields["items"]?.array ?? []).map { field -> [String: Any] in
            [
                "id": field["id"]?.string ?? "", "entity": field["entity"]?.string ?? "", "name": field["name"]?.string ?? "",
                "label": field["label"]?.string ?? "", "type": field["type"]?.string ?? "", "required": field["required"]?.bool ?? false,
                "allowed": field["allowed_values"]?.array?.compactMap(\.string).joined(separator: ", ") ?? "",
            ]
        }
        if let error { values["error"] = error }
        return renderer.page("admin-custom-fields", values, status: error == nil ? .ok : .unprocessableContent)
    }
}
