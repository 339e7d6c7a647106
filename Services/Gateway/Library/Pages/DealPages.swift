import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import NIOCore
import ServiceKit

/// Deals: the board of a pipeline (a card moves by drag and drop, or by its own small form without
/// JavaScript), a new deal, and the deal's page with its lines, quotes, stage history and closing.
struct DealPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let users: UserStore

    var renderer: PageRenderer { access.renderer }
    /// The oldest open deals of a stage on its column; the rest are counted, and an owner filter finds them.
    static let cardsPerColumn = 50

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/deals") { request, _, visit in try await board(request, visit, error: nil) }
        access.page(router, .post, "/deals/:id/move") { request, context, visit in
            let id = try context.uuidParameter("id").lowercased
            let (to, version) = (visit.form["to"] ?? "", visit.form["version"].flatMap(Int64.init))
            let answer = to == "won"
                ? try await api.call(.post, "/api/v1/deals/{id}/won", ["id": id], body: Self.versioned([:], version), as: visit.caller)
                : try await api.call(.post, "/api/v1/deals/{id}/stage", ["id": id], body: Self.versioned(["stage_id": .string(to)], version), as: visit.caller)
            if request.headers[.accept]?.contains("application/json") == true {
                // The board's script: the deal as it now is, or the problem, for it to show.
                return APICoding.rawResponse(
                    String(decoding: try APICoding.encoder.encode(answer.json), as: UTF8.self), status: .init(code: answer.status)
                )
            }
            guard answer.ok else { return try await board(request, visit, error: answer.message) }
            throw PageOutcome.redirect(request.headers[.referer].flatMap(Self.localPath) ?? "/deals")
        }
        access.page(router, .get, "/deals/new") { request, _, visit in
            try await newDeal(visit, contactId: request.uri.queryParameters.get("contact_id"), form: [:], errors: [:], error: nil)
        }
        access.page(router, .post, "/deals/new") { _, _, visit in
            let form = visit.form
            var body: [String: JSONValue] = [
                "title": form["title"].map(JSONValue.string) ?? .null,
                "amount": .object(["amount": .string(form["amount"] ?? ""), "currency": .string((form["currency"] ?? "EUR").uppercased())]),
                "owner": .string(visit.session.userId.lowercased),
            ]
            for name in ["contact_id", "stage_id", "expected_close_date"] { if let value = form[name] { body[name] = .string(value) } }
            let answer = try await api.call(.post, "/api/v1/deals", body: .object(body), as: visit.caller)
            guard answer.ok, let id = answer.json["id"]?.string else {
                var errors = answer.fieldErrors
                if let amount = errors.removeValue(forKey: "amount.amount") { errors["amount"] = amount }
                let values = ["title", "amount", "currency", "expected_close_date"].reduce(into: [String: String]()) { $0[$1] = form[$1] }
                return try await newDeal(visit, contactId: form["contact_id"], form: values, errors: errors, error: answer.detail)
            }
            throw PageOutcome.redirect("/deals/\(id)")
        }
        access.page(router, .get, "/deals/:id") { _, context, visit in try await deal(try context.uuidParameter("id"), visit, error: nil) }
        access.page(router, .post, "/deals/:id/order-request", allowed: { Permission.writeSales.allows($0) }) { _, context, visit in
            let id = try context.uuidParameter("id")
            let answer = try await api.call(
                .post, "/api/v1/deals/{id}/order-request", ["id": id.lowercased], body: .object(["source": .string(visit.form["source"] ?? "")]),
                as: visit.caller
            )
            guard answer.ok else { return try await deal(id, visit, error: answer.message) }
            throw PageOutcome.redirect("/deals/\(id.lowercased)#deal-orders")
        }
        for action in ["won", "lost", "reopen"] {
            access.page(router, .post, "/deals/:id/\(action)") { _, context, visit in
                let id = try context.uuidParameter("id")
                var body: [String: JSONValue] = [:]
                for name in ["comment", "reason"] { if let value = visit.form[name] { body[name] = .string(value) } }
                let answer = try await api.call(
                    .post, "/api/v1/deals/{id}/\(action)", ["id": id.lowercased], body: Self.versioned(body, visit.form["version"].flatMap(Int64.init)),
                    as: visit.caller
                )
                guard answer.ok else { return try await deal(id, visit, error: answer.message) }
                throw PageOutcome.redirect("/deals/\(id.lowercased)")
            }
        }
        access.page(router, .post, "/deals/:id/lines") { _, context, visit in
            let id = try context.uuidParameter("id")
            let deal = try await api.get("/api/v1/deals/{id}", ["id": id.lowercased], as: visit.caller)
            var lines = (deal["lines"]?.array ?? []).map(Self.lineInput)
            if let remove = visit.form["remove"].flatMap(Int.init), lines.indices.contains(remove) {
                lines.remove(at: remove)
            } else {
                // A number the API checks; anything else goes as typed, for the API to name the field.
                let number = { (text: String) in Double(text).map(JSONValue.number) ?? .string(text) }
                var line: [String: JSONValue] = ["product_id": .string(visit.form["product_id"] ?? ""), "quantity": number(visit.form["quantity"] ?? "1")]
                if let discount = visit.form["discount_percent"] { line["discount_percent"] = number(discount) }
                lines.append(.object(line))
            }
            let answer = try await api.call(
                .put, "/api/v1/deals/{id}/lines", ["id": id.lowercased],
                body: Self.versioned(["lines": .array(lines)], visit.form["version"].flatMap(Int64.init)), as: visit.caller
            )
            guard answer.ok else { return try await self.deal(id, visit, error: answer.message) }
            throw PageOutcome.redirect("/deals/\(id.lowercased)#deal-lines")
        }
        access.page(router, .post, "/deals/:id/quotes") { _, context, visit in
            let id = try context.uuidParameter("id")
            var body: [String: JSONValue] = [:]
            for name in ["valid_until", "notes"] { if let value = visit.form[name] { body[name] = .string(value) } }
            let answer = try await api.call(.post, "/api/v1/deals/{id}/quotes", ["id": id.lowercased], body: .object(body), as: visit.caller)
            guard answer.ok else { return try await deal(id, visit, error: answer.message) }
            throw PageOutcome.redirect("/deals/\(id.lowercased)#deal-quotes")
        }
        for action in ["send", "accept", "reject"] {
            access.page(router, .post, "/quotes/:id/\(action)") { _, context, visit in
                let id = try context.uuidParameter("id").lowercased
                guard let dealId = UUID(uuidString: visit.form["deal_id"] ?? "") else { throw PageOutcome.notFound }
                var body: [String: JSONValue] = [:]
                if let reason = visit.form["reason"] { body["reason"] = .string(reason) }
                let answer = try await api.call(
                    .post, "/api/v1/quotes/{id}/\(action)", ["id": id], body: Self.versioned(body, visit.form["version"].flatMap(Int64.init)), as: visit.caller
                )
                guard answer.ok else { return try await deal(dealId, visit, error: answer.message) }
                throw PageOutcome.redirect("/deals/\(dealId.lowercased)#deal-quotes")
            }
        }
        access.page(router, .get, "/quotes/:id/print") { _, context, visit in
            let id = try context.uuidParameter("id").lowercased
            let html = try await api.text("/api/v1/quotes/{id}/html", ["id": id], as: visit.caller)
            return Response(status: .ok, headers: PageRenderer.pageHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
        }
    }

    // MARK: - The board

    private func board(_ request: Request, _ visit: WebAccess.Visit, error: String?) async throws -> Response {
        let pipelines = try await api.get("/api/v1/pipelines", as: visit.caller)["items"]?.array ?? []
        let wanted = request.uri.queryParameters.get("pipeline_id")
        guard let pipeline = pipelines.first(where: { $0["id"]?.string == wanted })
            ?? pipelines.first(where: { $0["is_default"]?.bool == true }) ?? pipelines.first
        else { return renderer.page("deals-board", visit.values.merging(["columns": [Any](), "error": "There is no pipeline yet."]) { $1 }) }
        let pipelineId = pipeline["id"]?.string ?? ""
        // My deals unless another's or everyone's (`all`) are asked for: what a rep works on.
        let chosen = request.uri.queryParameters.get("owner")?.trimmed.nonEmpty ?? visit.session.userId.lowercased
        let owner = chosen == "all" ? nil : chosen
        // Each column's count and sum from the open-deals report, and its first cards, all side by
        // side: a pipeline of a million deals is as quick to show as one of ten.
        let stages = pipeline["stages"]?.array ?? []
        async let totals = api.get("/api/v1/reports/open-deals", query: [("pipeline_id", pipelineId), ("owner", owner)], as: visit.caller)
        let cards = try await withThrowingTaskGroup(of: (String, [JSONValue]).self) { group in
            for stage in stages {
                let stageId = stage["id"]?.string ?? ""
                group.addTask {
                    let page = try await api.get(
                        "/api/v1/deals",
                        query: [("pipeline_id", pipelineId), ("stage_id", stageId), ("status", "open"), ("owner", owner), ("limit", "\(Self.cardsPerColumn)")],
                        as: visit.caller
                    )
                    return (stageId, page["items"]?.array ?? [])
                }
            }
            return try await group.reduce(into: [String: [JSONValue]]()) { $0[$1.0] = $1.1 }
        }
        let counts = Dictionary(
            (try await totals)["stages"]?.array?.compactMap { stage in stage["stage_id"]?.string.map { ($0, stage["open"] ?? .null) } } ?? [],
            uniquingKeysWith: { first, _ in first }
        )
        let staff = try await users.names()
        var values = visit.values
        values["pipelines"] = pipelines.map { ["id": $0["id"]?.string ?? "", "name": $0["name"]?.string ?? "", "selected": $0["id"]?.string == pipelineId] }
        values["owners"] = try await users.list(activeOnly: true).items.compactMap { text -> [String: Any]? in
            guard let user = try? APICoding.decoder.decode(JSONValue.self, from: Data(text.utf8)), let id = user["id"]?.string else { return nil }
            return ["id": id, "name": user["name"]?.string ?? "", "selected": id == chosen]
        }
        values["everyone"] = owner == nil
        values["columns"] = stages.map { stage -> [String: Any] in
            let stageId = stage["id"]?.string ?? ""
            let here = cards[stageId] ?? []
            let open = counts[stageId]
            let count = open?["count"]?.number.map(Int.init) ?? here.count
            let sums = (open?["amounts"]?.array ?? []).map(StaffPages.money).joined(separator: " + ")
            return StaffPages.compact([
                "id": stageId, "name": stage["name"]?.string ?? "", "count": count, "total": sums.isEmpty ? StaffPages.total(here) : sums,
                "more": count > here.count ? count - here.count : nil,
                "deals": here.map { deal -> [String: Any] in
                    [
                        "id": deal["id"]?.string ?? "", "title": deal["title"]?.string ?? "", "amount": StaffPages.money(deal["amount"]),
                        "owner": deal["owner"]?.string.map { staff[$0] ?? $0 } ?? "", "version": deal["version"]?.number.map { Int64($0) } ?? 0,
                        "targets": stages.map { ["value": $0["id"]?.string ?? "", "label": $0["name"]?.string ?? "", "current": $0["id"]?.string == stageId] }
                            + [["value": "won", "label": "Won", "current": false]],
                    ]
                },
            ])
        }
        if let error { values["error"] = error }
        return renderer.page("deals-board", values, status: error == nil ? .ok : .conflict)
    }

    // MARK: - A new deal

    private func newDeal(
        _ visit: WebAccess.Visit, contactId: String?, form: [String: String], errors: [String: String], error: String?
    ) async throws -> Response {
        let pipelines = try await api.get("/api/v1/pipelines", as: visit.caller)["items"]?.array ?? []
        let pipeline = pipelines.first { $0["is_default"]?.bool == true } ?? pipelines.first
        var values = visit.values
        values["stages"] = (pipeline?["stages"]?.array ?? []).map { ["id": $0["id"]?.string ?? "", "name": $0["name"]?.string ?? ""] }
        values["form"] = form
        values["fieldErrors"] = errors
        if let contactId = contactId.flatMap(UUID.init(uuidString:))?.lowercased {
            values["contactId"] = contactId
            values["contactName"] = StaffPages.name(try await api.get("/api/v1/contacts/{id}", ["id": contactId], as: visit.caller))
        }
        if let error { values["error"] = error }
        return renderer.page("deal-new", values, status: error == nil ? .ok : .unprocessableContent)
    }

    // MARK: - A deal

    private func deal(_ id: UUID, _ visit: WebAccess.Visit, error: String?) async throws -> Response {
        let key = ["id": id.lowercased]
        async let dealRead = api.get("/api/v1/deals/{id}", key, as: visit.caller)
        async let historyRead = api.get("/api/v1/deals/{id}/history", key, as: visit.caller)
        async let quotesRead = api.get("/api/v1/quotes", query: [("deal_id", id.lowercased)], as: visit.caller)
        async let reasonsRead = api.get("/api/v1/lost-reasons", as: visit.caller)
        async let productsRead = api.get("/api/v1/products", query: [("limit", "200")], as: visit.caller)
        // The ERP bridge's part is optional: a page without it still shows the deal.
        async let requestsRead = api.call(.get, "/api/v1/deals/{id}/order-requests", key, as: visit.caller)
        async let sourcesRead = api.call(.get, "/api/v1/erp-sources", as: visit.caller)
        let (deal, history, quotes, reasons) = try await (dealRead, historyRead, quotesRead, reasonsRead)
        let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
        let staff = try await users.names()
        let status = deal["status"]?.string ?? "open"
        var values = visit.values
        values.merge(StaffPages.compact([
            "id": id.lowercased, "title": deal["title"]?.string ?? "", "amount": StaffPages.money(deal["amount"]),
            "probability": deal["probability"]?.number.map { Int($0) } ?? 0, "expected": deal["expected_close_date"]?.string,
            "owner": deal["owner"]?.string.map { staff[$0] ?? $0 }, "contactId": deal["contact_id"]?.string,
            "lostReason": deal["lost_reason"]?.string, "comment": deal["close_comment"]?.string,
            "version": deal["version"]?.number.map { Int64($0) } ?? 0, "open": status == "open",
            "state": status == "open" ? (deal["stage_name"]?.string ?? "open") : status, "error": error,
        ])) { $1 }
        values["lines"] = (deal["lines"]?.array ?? []).enumerated().map { index, line -> [String: Any] in
            StaffPages.compact([
                "index": index, "name": line["product_name"]?.string ?? "", "code": line["product_code"]?.string ?? "",
                "quantity": line["quantity"]?.number.map { $0.formatted() } ?? "", "unit": line["unit"]?.string ?? "",
                "unitPrice": StaffPages.money(line["unit_price"]), "total": StaffPages.money(line["total"]),
                "discount": line["discount_percent"]?.number.flatMap { $0 == 0 ? nil : "\($0.formatted()) %" },
            ])
        }
        values["products"] = (try await productsRead["items"]?.array ?? []).map {
            ["id": $0["id"]?.string ?? "", "name": $0["name"]?.string ?? "", "code": $0["code"]?.string ?? ""]
        }
        values["hasLines"] = !(deal["lines"]?.array ?? []).isEmpty
        values["deal"] = ["id": id.lowercased]
        values["quotes"] = (quotes["items"]?.array ?? []).map { quote -> [String: Any] in
            let state = quote["status"]?.string ?? ""
            return StaffPages.compact([
                "id": quote["id"]?.string ?? "", "number": quote["number"]?.string ?? "", "status": state, "total": StaffPages.money(quote["total"]),
                "version": quote["version"]?.number.map { Int64($0) } ?? 0, "validUntil": quote["valid_until"]?.string,
                "canSend": state == "draft", "canDecide": state == "sent",
            ])
        }
        values["history"] = (history["items"]?.array ?? []).map { stay -> [String: Any] in
            let days = (stay["seconds"]?.number ?? 0) / 86_400
            return ["stage": stay["stage_name"]?.string ?? "", "entered": StaffPages.local(stay["entered_at"]?.string, zone),
                    "duration": days >= 1 ? "\(Int(days)) days" : "under a day"]
        }
        let requests = (try? await requestsRead)?.json["items"]?.array ?? []
        values["orderRequests"] = requests.map { request -> [String: Any] in
            StaffPages.compact([
                "source": request["source"]?.string ?? "", "status": request["status"]?.string ?? "", "reason": request["reason"]?.string,
                "at": StaffPages.local(request["requested_at"]?.string, zone),
                "by": request["requested_by"]?.string.map { staff[$0] ?? $0 },
                "orders": (request["orders"]?.array ?? []).map {
                    ["id": $0["id"]?.string ?? "", "number": $0["order_number"]?.string ?? "", "status": $0["status"]?.string ?? ""]
                },
            ])
        }
        let sources = (try? await sourcesRead)?.json["items"]?.array?.compactMap { $0["name"]?.string } ?? []
        let orderable = quotes["items"]?.array?.contains { $0["status"]?.string == "accepted" } == true
            || (status == "won" && !(deal["lines"]?.array ?? []).isEmpty)
        if orderable, !sources.isEmpty, Permission.writeSales.allows(visit.session.role) {
            values["erpSources"] = sources
            values["canOrder"] = true
        }
        values["reasons"] = (reasons["items"]?.array ?? []).filter { $0["retired"]?.bool != true }.map {
            ["code": $0["code"]?.string ?? "", "label": $0["label"]?.string ?? ""]
        }
        return renderer.page("deal", values, status: error == nil ? .ok : .conflict)
    }

    // MARK: - Parts

    /// A line as the deal has it, as `PUT /lines` takes it back: a price of its own stays its own.
    static func lineInput(_ line: JSONValue) -> JSONValue {
        var input: [String: JSONValue] = ["product_id": line["product_id"] ?? .null, "quantity": line["quantity"] ?? .number(1)]
        if line["price_overridden"]?.bool == true, let price = line["unit_price"]?["amount"] { input["unit_price"] = price }
        if let discount = line["discount_percent"], discount.number != 0 { input["discount_percent"] = discount }
        return .object(input)
    }

    static func versioned(_ body: [String: JSONValue], _ version: Int64?) -> JSONValue {
        var body = body
        if let version { body["version"] = .number(Double(version)) }
        return .object(body)
    }

    /// The path of a same-site URL (a Referer), to send the browser back where it was.
    static func localPath(_ url: String) -> String? {
        guard let components = URLComponents(string: url), !components.path.isEmpty else { return nil }
        return components.path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
    }
}
