import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Messaging
import ServiceKit

/// The customers' self-service portal (`/portal`), and the staff's side of it: granting a contact
/// access. A customer sees only their own affairs: every page is built from their session (their
/// contact, their requests), and a request's page shows it only when it is theirs. The portal calls
/// the API as the caller `portal:<id>`, read-only but for the one write it offers, a quote request
/// (a lead in sales).
struct PortalPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let portal: PortalStore

    var renderer: PageRenderer { access.renderer }
    static let cookieName = "sb_portal"

    func register(on router: Router<ServiceRequestContext>) {
        // Staff: access for a contact, from the contact's page.
        access.page(router, .post, "/contacts/:id/portal-access", allowed: { Permission.writeCustomers.allows($0) }) { _, context, visit in
            let id = try context.uuidParameter("id")
            let contact = try await api.get("/api/v1/contacts/{id}", ["id": id.lowercased], as: visit.caller)
            guard let email = StaffPages.primary(contact["emails"], "address") else {
                return renderer.page("error", visit.values.merging([
                    "heading": "No e-mail address", "message": "The contact needs an e-mail address to sign in to the portal; add one first.",
                ]) { $1 }, status: .unprocessableContent)
            }
            let link = try await portal.grant(.init(
                contactId: id, accountId: contact["account_id"]?.string.flatMap(UUID.init(uuidString:)), email: email,
                name: StaffPages.name(contact), customerType: contact["customer_type"]?.string, grantedBy: visit.session.userId.lowercased
            ))
            var values = visit.values
            values["heading"] = "Portal access for \(StaffPages.name(contact))"
            values["message"] = "Hand this one-time link to the customer (valid until \(link.expiresAt)); they choose a password there and sign in with \(email)."
            values["link"] = link.path
            values["back"] = "/contacts/\(id.lowercased)"
            return renderer.page("portal-granted", values)
        }

        router.get("/portal/sign-in") { _, _ in renderer.page("portal-sign-in", [:]) }
        router.post("/portal/sign-in") { request, context in
            let form = try await WebAccess.form(request, context: context)
            let email = form["email"] ?? ""
            do {
                let token = try await portal.signIn(email: email, password: form.raw("password") ?? "", address: SignInPages.address(request, context))
                return Response(status: .seeOther, headers: [.location: "/portal", .setCookie: cookie(token)])
            } catch SessionStore.SignInFailure.refused {
                return renderer.page("portal-sign-in", ["email": email, "error": "The e-mail or the password is not right."], status: .unauthorized)
            } catch let SessionStore.SignInFailure.limited(retryAfter) {
                return renderer.page(
                    "portal-sign-in", ["email": email, "error": "Too many failed attempts. Try again in \(max(1, retryAfter / 60)) minutes."],
                    status: .tooManyRequests, headers: [.retryAfter: "\(retryAfter)"]
                )
            }
        }
        router.get("/portal/activate/:token") { _, _ in renderer.page("portal-activate", ["usable": true]) }
        router.post("/portal/activate/:token") { request, context in
            let form = try await WebAccess.form(request, context: context)
            let password = form.raw("password") ?? ""
            guard password == form.raw("repeat") else {
                return renderer.page("portal-activate", ["usable": true, "error": "The two passwords differ."], status: .unprocessableContent)
            }
            do {
                try await portal.activate(context.parameters.get("token") ?? "", password: password)
            } catch let problem as Problem where problem.statusCode == 410 || problem.statusCode == 422 {
                let message = problem.errors.first.map { "The password \($0.message)." } ?? problem.detail ?? ""
                return renderer.page("portal-activate", ["usable": problem.statusCode == 422, "error": message], status: .init(code: problem.statusCode))
            }
            return renderer.page("portal-sign-in", ["notice": "Your account is active. Sign in with your e-mail and the password you chose."])
        }

        page(router, .post, "/portal/sign-out") { _, customer, _ in
            try await portal.end(customer)
            return Response(status: .seeOther, headers: [.location: "/portal/sign-in", .setCookie: "\(Self.cookieName)=; Path=/portal; HttpOnly; SameSite=Lax; Max-Age=0"])
        }
        page(router, .get, "/portal") { _, customer, values in
            var values = values
            values["requestCount"] = try await portal.requests(of: customer).count
            return renderer.page("portal-home", values)
        }
        page(router, .get, "/portal/products") { request, customer, values in
            try await products(request.uri.queryParameters.get("q")?.trimmed.nonEmpty, customer, values, error: nil)
        }
        page(router, .post, "/portal/quote-request") { request, customer, values in
            try await quoteRequest(request, customer, values)
        }
        page(router, .get, "/portal/requests") { _, customer, values in
            var values = values
            values["requests"] = try await portal.requests(of: customer).map {
                ["id": $0.id.lowercased, "summary": $0.summary, "created": String($0.createdAt.prefix(10))]
            }
            return renderer.page("portal-requests", values)
        }
        page(router, .get, "/portal/requests/:id") { _, customer, values in
            // Another customer's id is simply not found: nothing tells that it exists.
            guard let id = UUID(uuidString: values["requestId"] as? String ?? ""),
                let request = try await portal.requests(of: customer, id: id).first
            else { throw PageOutcome.notFound }
            let lead = try await api.call(.get, "/api/v1/leads/{id}", ["id": request.leadId.lowercased], as: Self.caller(customer))
            var values = values
            values["summary"] = request.summary
            values["created"] = String(request.createdAt.prefix(10))
            values["status"] = lead.ok ? (lead.json["status"]?.string == "converted" ? "being quoted" : "received") : "received"
            return renderer.page("portal-request", values)
        }
        page(router, .get, "/portal/orders") { _, customer, values in
            let caller = Self.caller(customer)
            async let mine = api.get("/api/v1/orders", query: [("customer_id", customer.contactId.lowercased), ("limit", "100")], as: caller)
            // A contact person of a company sees the company's own orders too.
            async let company = customer.accountId.asyncMap {
                try await api.get("/api/v1/orders", query: [("account_id", $0.lowercased), ("limit", "100")], as: caller)
            }
            let orders = (try await mine)["items"]?.array ?? []
            let companyOrders = (try await company)?["items"]?.array ?? []
            var seen = Set<String>()
            var values = values
            values["orders"] = (orders + companyOrders)
                .filter { seen.insert($0["id"]?.string ?? "").inserted }
                .sorted { ($0["ordered_at"]?.string ?? "") > ($1["ordered_at"]?.string ?? "") }
                .map { OrderPages.summary($0, .gmt) }
            return renderer.page("portal-orders", values)
        }
        page(router, .get, "/portal/orders/:id") { _, customer, values in
            guard let id = UUID(uuidString: values["requestId"] as? String ?? "") else { throw PageOutcome.notFound }
            let order = try await api.get("/api/v1/orders/{id}", ["id": id.lowercased], as: Self.caller(customer))
            // Another customer's order is simply not found: nothing tells that it exists.
            let mine = order["contact_id"]?.string == customer.contactId.lowercased
                || (customer.accountId != nil && order["account_id"]?.string == customer.accountId?.lowercased)
            guard mine else { throw PageOutcome.notFound }
            return renderer.page("portal-order", values.merging(Self.orderValues(order)) { $1 })
        }
        router.get("/portal/order-status") { _, _ in renderer.page("portal-order-status", [:]) }
        router.post("/portal/order-status") { request, context in
            let form = try await WebAccess.form(request, context: context)
            let number = form["order_number"] ?? ""
            let email = form["email"] ?? ""
            var values: [String: Any] = ["number": number, "email": email]
            guard let erp = api.upstreams["erp_bridge"] else { throw Problem(.serviceUnavailable, slug: "upstream-unavailable", detail: "no ERP bridge") }
            var components = URLComponents()
            components.queryItems = [URLQueryItem(name: "order_number", value: number), URLQueryItem(name: "email", value: email)]
            let query = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
            let (status, _, body) = try await erp.get(
                "/api/v1/order-status?\(query)", caller: Caller(id: "portal:order-status", role: .readonly), timeout: .seconds(5)
            )
            guard status == 200, let order = try? APICoding.decoder.decode(JSONValue.self, from: Data(body.readableBytesView)) else {
                values["error"] = "We found no order with that number for that e-mail address. Check both, as they appear on your order confirmation."
                return renderer.page("portal-order-status", values, status: status == 404 ? .notFound : .serviceUnavailable)
            }
            return renderer.page("portal-order-status", values.merging(Self.orderValues(order)) { $1 })
        }
        for (path, heading, message) in [
            ("tickets", "My tickets", "Your questions, complaints and wishes and our answers will show here."),
            ("complaints", "Complaints", "You will be able to file a complaint here. Until then, call or write to us."),
            ("wishes", "Wishes", "You will be able to tell us what you wish for here. Until then, call or write to us."),
        ] {
            page(router, .get, "/portal/\(path)") { _, _, values in
                renderer.page("portal-soon", values.merging(["heading": heading, "message": message]) { $1 })
            }
        }
    }

    /// What a customer sees of an order: where it is and what is in it, not how the CRM matched it.
    static func orderValues(_ order: JSONValue) -> [String: Any] {
        [
            "order": OrderPages.summary(order, .gmt),
            "lines": (order["lines"]?.array ?? []).map { line -> [String: Any] in
                ["description": line["description"]?.string ?? line["sku"]?.string ?? "", "quantity": line["quantity"]?.string ?? "",
                 "delivered": line["delivered_quantity"]?.string ?? "", "total": line["line_total"]?.string ?? ""]
            },
            "history": (order["status_history"]?.array ?? []).reversed().map { change -> [String: Any] in
                ["status": change["status"]?.string ?? "", "at": StaffPages.local(change["status_at"]?.string, .gmt, format: "d MMM yyyy, HH:mm 'UTC'")]
            },
        ]
    }

    /// The portal's API caller for a customer: read-only, or allowed the sales role's writes for
    /// the quote request the portal sends.
    static func caller(_ customer: PortalStore.Customer, writing: Bool = false) -> Caller {
        Caller(id: "portal:\(customer.id.lowercased)", role: writing ? .sales : .readonly)
    }

    private func cookie(_ token: String) -> String {
        "\(Self.cookieName)=\(token); Path=/portal; HttpOnly; SameSite=Lax\(access.secureCookies ? "; Secure" : "")"
    }

    /// A page for a signed-in customer (a POST's form must carry the session's CSRF token); anyone
    /// else is sent to the portal's sign-in.
    private func page(
        _ router: Router<ServiceRequestContext>, _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, PortalStore.Customer, [String: Any]) async throws -> Response
    ) {
        router.on(RouterPath(path), method: method) { request, context in
            var customerValues: [String: Any] = [:]
            do {
                guard let token = Self.token(request), let customer = try await portal.customer(token) else {
                    return Response(status: .seeOther, headers: [.location: "/portal/sign-in"])
                }
                customerValues = ["customer": ["name": customer.name, "csrf": customer.csrfToken]]
                var values = customerValues
                if let id = context.parameters.get("id") { values["requestId"] = id }
                if method == .post {
                    let form = try await WebAccess.form(request, context: context)
                    guard let sent = form.raw("_csrf"), SecretToken.same(sent, customer.csrfToken) else {
                        return renderer.page("portal-soon", values.merging(["heading": "The form has expired", "message": "Reload the page and send it again."]) { $1 }, status: .forbidden)
                    }
                    values["form"] = form
                }
                return try await handler(request, customer, values)
            } catch PageOutcome.notFound {
                return renderer.page("portal-soon", customerValues.merging(["heading": "Not found", "message": "There is nothing here."]) { $1 }, status: .notFound)
            } catch {
                let reference = UUID().lowercased.prefix(8)
                access.logger.error("portal page failed", metadata: ["path": "\(request.uri.path)", "reference": "\(reference)", "error": "\(String(reflecting: error))"])
                return renderer.page("portal-soon", customerValues.merging([
                    "heading": "Something went wrong", "message": "Please try again in a moment. Reference: \(reference)",
                ]) { $1 }, status: .internalServerError)
            }
        }
    }

    static func token(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmed == cookieName { return parts[1].trimmed }
            }
        }
        return nil
    }

    // MARK: - Products and quote requests

    private func products(_ q: String?, _ customer: PortalStore.Customer, _ values: [String: Any], error: String?) async throws -> Response {
        let caller = Self.caller(customer)
        async let productsRead = api.get("/api/v1/products", query: [("q", q), ("limit", "100")], as: caller)
        async let listsRead = api.get("/api/v1/price-lists", as: caller)
        let (products, lists) = try await (productsRead, listsRead)
        // The customer's prices: the price list for their customer group (their customer type), else the list prices.
        let list = (lists["items"]?.array ?? []).first { $0["customer_group"]?.string != nil && $0["customer_group"]?.string == customer.customerType }
        var prices: [String: String] = [:]
        for price in list?["prices"]?.array ?? [] {
            if let product = price["product_id"]?.string { prices[product] = StaffPages.money(price["unit_price"]) }
        }
        var values = values
        values["q"] = q ?? ""
        if let name = list?["name"]?.string { values["priceList"] = name }
        values["products"] = (products["items"]?.array ?? []).map { product -> [String: Any] in
            let id = product["id"]?.string ?? ""
            return ["id": id, "name": product["name"]?.string ?? "", "code": product["code"]?.string ?? "", "unit": product["unit"]?.string ?? "",
                    "price": prices[id] ?? StaffPages.money(product["base_price"])]
        }
        if let error { values["error"] = error }
        return renderer.page("portal-products", values, status: error == nil ? .ok : .unprocessableContent)
    }

    /// The chosen products become a lead in sales (its notes list them with the customer's
    /// prices), which staff see at once; the portal keeps that it is this customer's.
    private func quoteRequest(_ request: Request, _ customer: PortalStore.Customer, _ values: [String: Any]) async throws -> Response {
        guard let form = values["form"] as? FormData else { throw PageOutcome.notFound }
        let caller = Self.caller(customer)
        var lines: [String] = []
        // A page lists at most 100 products; more chosen lines than that are no person's form.
        let chosen = form.pairs.filter { $0.name.hasPrefix("qty-") && (Int($0.value.trimmed) ?? 0) > 0 }
        guard chosen.count <= 100 else {
            return try await products(nil, customer, values, error: "Choose at most 100 products in one request.")
        }
        for pair in chosen {
            guard let id = UUID(uuidString: String(pair.name.dropFirst(4))), let quantity = Int(pair.value.trimmed), quantity > 0 else { continue }
            let product = try await api.call(.get, "/api/v1/products/{id}", ["id": id.lowercased], as: caller)
            guard product.ok, product.json["active"]?.bool != false else { continue }
            lines.append("\(min(quantity, 100_000)) × \(product.json["name"]?.string ?? "") (\(product.json["code"]?.string ?? ""))")
        }
        guard !lines.isEmpty else {
            return try await products(nil, customer, values, error: "Choose a quantity for at least one product.")
        }
        let contact = try await api.get("/api/v1/contacts/{id}", ["id": customer.contactId.lowercased], as: caller)
        var notes = "Quote requested in the customer portal:\n" + lines.joined(separator: "\n")
        if let message = form["message"] { notes += "\n\nThe customer wrote: " + String(message.prefix(2000)) }
        var lead: [String: JSONValue] = [
            "first_name": contact["first_name"] ?? .null, "last_name": contact["last_name"] ?? .string(customer.name),
            "company": contact["company"] ?? .null, "email": .string(customer.email),
            "phone": StaffPages.primary(contact["phones"], "number").map(JSONValue.string) ?? .null,
            "source": .string("web"), "owner": contact["owner"] ?? .null, "notes": .string(notes),
        ]
        var answer = try await api.call(.post, "/api/v1/leads", body: .object(lead), as: Self.caller(customer, writing: true))
        if answer.status == 422, answer.json["errors"]?.array?.contains(where: { $0["field"]?.string == "owner" }) == true {
            // The contact's owner has left (or was typed before owners were users): the request
            // is not the customer's problem; it comes in unowned, and the leads page shows it.
            lead["owner"] = nil
            answer = try await api.call(.post, "/api/v1/leads", body: .object(lead), as: Self.caller(customer, writing: true))
        }
        guard answer.ok, let leadId = answer.json["id"]?.string.flatMap(UUID.init(uuidString:)) else {
            return try await products(nil, customer, values, error: answer.detail)
        }
        let id = try await portal.recordRequest(customer, lead: leadId, summary: lines.joined(separator: ", "))
        return Response(status: .seeOther, headers: [.location: "/portal/requests/\(id.lowercased)"])
    }
}
