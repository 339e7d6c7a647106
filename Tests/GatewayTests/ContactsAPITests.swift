import Foundation
import Testing
import TestSupport

/// What the gateway adds to the contacts API: keys and roles, and Idempotency-Key replays. The
/// API itself is tested in-process (ContactsTests/ContactsAPITests).
@Suite("Contacts through the gateway", .timeLimit(.minutes(3)))
struct ContactsAPITests {
    let api = APIClient()

    /// An e-mail no other test or run uses.
    static func email(_ name: String = "c") -> String { "\(TestEnvironment.uniqueName(name))@example.com" }

    @Test("401 without a valid key, 403 outside the role, readonly reads, a revoked key stops working")
    func authorization() async throws {
        #expect(try await APIClient(key: nil).get("/api/v1/contacts").status == 401)
        #expect(try await APIClient(key: nil).send("POST", "/api/v1/imports", body: Data("last_name\nX\n".utf8)).status == 401)
        #expect(try await APIClient(key: "sb_not_a_key").get("/api/v1/contacts").status == 401)
        let created = try await api.post("/api/v1/api-keys", ["name": "reader", "role": "readonly"])
        #expect(created.status == 201)
        let key = try #require(created.json["key"] as? String)
        let id = try #require(created.json["id"] as? String)
        let reader = APIClient(key: key)
        #expect(try await reader.get("/api/v1/contacts?limit=1").status == 200)
        let write = try await reader.post("/api/v1/contacts", ["last_name": "Nope"])
        #expect(write.status == 403)
        #expect(write.header("Content-Type") == "application/problem+json")
        #expect(try await reader.get("/api/v1/api-keys").status == 403)

        let sales = try #require(try await api.post("/api/v1/api-keys", ["name": "seller", "role": "sales"]).json["key"] as? String)
        #expect(try await APIClient(key: sales).post("/api/v1/contacts", ["last_name": "Sold", "emails": [["address": Self.email()]]]).status == 201)
        #expect(try await APIClient(key: sales).post("/api/v1/custom-fields", ["entity": "contact", "name": "x", "type": "string"]).status == 403)

        let listed = try await api.get("/api/v1/api-keys")
        #expect(!listed.text.contains(key), "keys are never listed")
        #expect(try await api.send("DELETE", "/api/v1/api-keys/\(id)").status == 204)
        #expect(try await reader.get("/api/v1/contacts?limit=1").status == 401)
    }

    @Test("a POST with an Idempotency-Key is answered once and replayed; the key with another body is refused")
    func idempotency() async throws {
        let key = UUID().uuidString
        let body: [String: Any] = ["last_name": "Once", "emails": [["address": Self.email()]]]
        let first = try await api.post("/api/v1/contacts", body, headers: ["Idempotency-Key": key])
        let second = try await api.post("/api/v1/contacts", body, headers: ["Idempotency-Key": key])
        #expect(first.status == 201)
        #expect(second.status == 201)
        #expect(second.json["id"] as? String == first.json["id"] as? String)
        #expect(second.header("Location") == first.header("Location"))
        #expect(second.header("Idempotent-Replayed") == "true")
        let other = try await api.post("/api/v1/contacts", ["last_name": "Twice"], headers: ["Idempotency-Key": key])
        #expect(other.status == 422)
    }
}
