import Foundation
import PostgresNIO
import Testing
import TestSupport

/// The web app's sign-in and what guards it, against the running gateway: sessions, CSRF,
/// roles, deactivation, attempt limits, and passwords never kept or logged in clear.
@Suite("Web sign-in and its guards", .timeLimit(.minutes(3)))
struct WebSignInTests {
    let api = APIClient()
    static let password = "a long enough secret 42"

    @Test("a right password signs in with an HttpOnly, SameSite cookie; a wrong one does not, and says nothing about which part was wrong")
    func signIn() async throws {
        let user = try await api.newUser(role: "sales", password: Self.password, name: "Signing In")
        let email = try #require(user["email"] as? String)
        let browser = WebClient()
        #expect(try await browser.get("/home").header("location")?.hasPrefix("/sign-in") == true, "a stranger is sent to sign in")
        let wrong = try await browser.signIn(email, "not the password")
        #expect(wrong.status == 401)
        #expect(wrong.text.contains("The e-mail or the password is not right."))
        let unknown = try await browser.signIn("nobody-\(UUID())@example.com", "not the password")
        #expect(unknown.status == 401)
        #expect(unknown.text.contains("The e-mail or the password is not right."))
        let right = try await browser.signIn(email.uppercased(), Self.password)
        #expect(right.status == 303)
        #expect(right.header("location") == "/home")
        let cookie = try #require(right.header("set-cookie"))
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
        let home = try await browser.get("/home")
        #expect(home.status == 200)
        #expect(home.text.contains("Signing In"))
    }

    @Test("a form posted without its CSRF token, or with another session's, is refused and changes nothing")
    func csrf() async throws {
        let user = try await api.newUser(role: "sales", password: Self.password)
        let email = try #require(user["email"] as? String)
        let browser = WebClient(), other = WebClient()
        try await browser.signIn(email, Self.password)
        try await other.signIn(email, Self.password)
        let without = try await browser.post("/sign-out", [])
        #expect(without.status == 403)
        #expect(without.text.contains("The form has expired"))
        let foreign = try await browser.post("/sign-out", [], csrf: try await other.csrf())
        #expect(foreign.status == 403)
        #expect(try await browser.get("/home").status == 200, "still signed in")
        let contact = try await api.newContact("Csrf")
        let logged = try await browser.post("/contacts/\(contact)/interactions", [("channel", "phone"), ("direction", "outbound"), ("subject", "Forged")])
        #expect(logged.status == 403)
        #expect(try await api.get("/api/v1/contacts/\(contact)/interactions").items.isEmpty, "nothing was logged")
        let out = try await browser.post("/sign-out", [], csrf: try await browser.csrf())
        #expect(out.status == 303)
        #expect(try await browser.get("/home").header("location")?.hasPrefix("/sign-in") == true)
        #expect(try await other.get("/home").status == 200, "signing out ends this browser's session only")
    }

    @Test("a sales rep cannot open the admin pages nor post to them; an admin can")
    func adminPages() async throws {
        let rep = try await api.newUser(role: "sales", password: Self.password)
        let admin = try await api.newUser(role: "admin", password: Self.password)
        let repBrowser = WebClient(), adminBrowser = WebClient()
        try await repBrowser.signIn(try #require(rep["email"] as? String), Self.password)
        try await adminBrowser.signIn(try #require(admin["email"] as? String), Self.password)
        let refused = try await repBrowser.get("/admin/users")
        #expect(refused.status == 403)
        #expect(refused.text.contains("Not for your role"))
        let created = try await repBrowser.post(
            "/admin/users", [("name", "Sneaky"), ("email", "sneaky-\(UUID())@example.com"), ("role", "admin")], csrf: try await repBrowser.csrf()
        )
        #expect(created.status == 403)
        #expect(try await adminBrowser.get("/admin/users").status == 200)
    }

    @Test("a deactivated user's sessions end at once and sign-in refuses them; reactivated, they sign in again")
    func deactivation() async throws {
        let user = try await api.newUser(role: "sales", password: Self.password)
        let (id, email) = (try #require(user["id"] as? String), try #require(user["email"] as? String))
        let browser = WebClient()
        try await browser.signIn(email, Self.password)
        #expect(try await browser.get("/home").status == 200)
        #expect(try await api.post("/api/v1/users/\(id)/deactivate", [:]).status == 200)
        #expect(try await browser.get("/home").header("location")?.hasPrefix("/sign-in") == true)
        #expect(try await WebClient().signIn(email, Self.password).status == 401)
        #expect(try await api.post("/api/v1/users/\(id)/reactivate", [:]).status == 200)
        #expect(try await WebClient().signIn(email, Self.password).status == 303)
    }

    @Test("after five failures an account is refused for a while, even with the right password")
    func attemptLimit() async throws {
        let user = try await api.newUser(role: "readonly", password: Self.password)
        let email = try #require(user["email"] as? String)
        for _ in 0..<5 { #expect(try await WebClient().signIn(email, "guess \(UUID())").status == 401) }
        let limited = try await WebClient().signIn(email, Self.password)
        #expect(limited.status == 429)
        #expect(Int(limited.header("retry-after") ?? "") ?? 0 > 0)
    }

    @Test("a password is kept only as a bcrypt hash, never in a document, an event or the log")
    func passwordsNotInClear() async throws {
        let secret = "clear-text-\(UUID().uuidString.prefix(8))"
        let user = try await api.newUser(role: "sales", password: secret)
        let id = try #require(user["id"] as? String)
        try await WebClient().signIn(try #require(user["email"] as? String), secret)
        #expect(try await api.get("/api/v1/users/\(id)").text.contains("password_hash") == false)
        try await TestEnvironment.withClient { client in
            let rows = try await client.query("SELECT password_hash FROM gateway.users WHERE id = \(UUID(uuidString: id)!)", logger: TestEnvironment.logger)
            for try await hash in rows.decode(String.self) {
                #expect(hash.hasPrefix("$2"), "a bcrypt hash")
                #expect(!hash.contains(secret))
            }
            #expect(try await TestEnvironment.count(
                "SELECT count(*) FROM gateway.outbox WHERE payload::text LIKE '%\(secret)%' OR payload::text LIKE '%$2%'", client
            ) == 0)
        }
        let secrets = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_SECRETS"] ?? ".local/secrets.env"
        let log = URL(fileURLWithPath: secrets).deletingLastPathComponent().appendingPathComponent("logs/gateway.log")
        let text = try String(contentsOf: log, encoding: .utf8)
        #expect(!text.isEmpty)
        #expect(!text.contains(secret))
    }
}
