import Foundation
import Testing
import TestSupport

/// The customers' portal against the running gateway: access granted by staff, activation, a
/// quote request that staff see as a lead at once, and one customer kept from another's affairs.
@Suite("Customer portal", .timeLimit(.minutes(3)))
struct PortalTests {
    let api = APIClient()
    static let password = "a long enough secret 42"

    /// A product of the test's own, found by its code: the tests do not lean on the demo's catalogue.
    func product() async throws -> (id: String, code: String) {
        let code = "PORTAL-\(UUID().uuidString.prefix(8))"
        let made = try await api.post("/api/v1/products", ["code": code, "name": "Portal pallet", "base_price": ["amount": "42.00", "currency": "EUR"]])
        return (try #require(made.json["id"] as? String, "\(made.text)"), code)
    }

    /// A contact with portal access, activated; the customer's signed-in browser and e-mail.
    func customer(_ lastName: String) async throws -> (browser: WebClient, email: String, contact: String) {
        let contact = try await api.newContact(lastName)
        let email = try #require(((try await api.get("/api/v1/contacts/\(contact)").json["emails"] as? [[String: Any]])?.first?["address"]) as? String)
        let staffUser = try await api.newUser(role: "sales", password: Self.password)
        let staff = WebClient()
        try await staff.signIn(try #require(staffUser["email"] as? String), Self.password)
        let granted = try await staff.post("/contacts/\(contact)/portal-access", [], csrf: try await staff.csrf(on: "/contacts/\(contact)"))
        #expect(granted.status == 200)
        let link = try #require(granted.text.firstMatch(of: /<code id="portal-link">([^<]+)<\/code>/).map { String($0.1) })
        let browser = WebClient()
        #expect(try await browser.post(link, [("password", Self.password), ("repeat", Self.password)]).status == 200)
        #expect(try await browser.post(link, [("password", Self.password), ("repeat", Self.password)]).status == 410, "a link works once")
        let signIn = try await browser.post("/portal/sign-in", [("email", email.uppercased()), ("password", Self.password)])
        #expect(signIn.status == 303)
        #expect(signIn.header("set-cookie")?.contains("Path=/portal; HttpOnly; SameSite=Lax") == true)
        return (browser, email, contact)
    }

    @Test("a customer requests a quote for products, and staff find it as a new web lead at once, with the products")
    func quoteRequest() async throws {
        let (browser, email, _) = try await customer("Portal")
        let (product, code) = try await self.product()
        let products = try await browser.get("/portal/products?q=\(code)")
        #expect(products.status == 200)
        #expect(products.text.contains("name=\"qty-\(product)\"") && products.text.contains("42.00 EUR"), "the customer sees the product and its price")
        let csrf = try #require(products.text.firstMatch(of: /name="_csrf" value="([0-9a-f]+)"/).map { String($0.1) })
        let none = try await browser.post("/portal/quote-request", [], csrf: csrf)
        #expect(none.status == 422, "a request without products is refused")
        let sent = try await browser.post("/portal/quote-request", [("qty-\(product)", "3"), ("message", "Before Easter, please.")], csrf: csrf)
        #expect(sent.status == 303)
        let page = try await browser.get(try #require(sent.header("location")))
        #expect(page.status == 200)
        #expect(page.text.contains("3 ×"))
        let leads = try await api.get("/api/v1/leads?order=newest&source=web&limit=50").items
        let lead = try #require(leads.first { $0["email"] as? String == email.lowercased() })
        #expect(lead["status"] as? String == "new")
        #expect((lead["notes"] as? String)?.contains("3 ×") == true)
        #expect((lead["notes"] as? String)?.contains("Before Easter, please.") == true)
    }

    @Test("a customer cannot read another customer's request by changing the id, nor the staff's pages; a request without its token is refused")
    func isolation() async throws {
        let first = try await customer("First")
        let second = try await customer("Second")
        let (product, code) = try await self.product()
        let products = try await first.browser.get("/portal/products?q=\(code)")
        let csrf = try #require(products.text.firstMatch(of: /name="_csrf" value="([0-9a-f]+)"/).map { String($0.1) })
        #expect(try await first.browser.post("/portal/quote-request", [("qty-\(product)", "1")]).status == 403, "no CSRF token")
        let sent = try await first.browser.post("/portal/quote-request", [("qty-\(product)", "1")], csrf: csrf)
        let path = try #require(sent.header("location"))
        #expect(try await first.browser.get(path).status == 200)
        let foreign = try await second.browser.get(path)
        #expect(foreign.status == 404)
        #expect(!foreign.text.contains("1 ×"))
        #expect(try await second.browser.get("/home").header("location")?.hasPrefix("/sign-in") == true, "a customer is no staff")
        #expect(try await WebClient().get("/portal").header("location") == "/portal/sign-in")
    }
}
