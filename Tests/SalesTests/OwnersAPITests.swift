import Foundation
import PostgresNIO
import SalesService
import ServiceKit
import Storage
import Testing
import TestSupport

/// Owners of leads, deals, activities and call lists are users of Switchboard, as sales' copy of
/// the staff (from the gateway's identity.user.* events) knows them.
@Suite("Owners", .timeLimit(.minutes(3)))
struct OwnersAPITests {
    @Test("an owner is an active user, named by id or e-mail and kept as the id; anything else is a 422 naming the field")
    func ownerIsAUser() async throws {
        try await SalesChecks.run { try await $0.ownerIsAUser() }
    }

    @Test("an owner written as text before users existed stays readable, filterable and unchanged by patches until one gives the work to a user")
    func legacyOwner() async throws {
        try await SalesChecks.run { try await $0.legacyOwner() }
    }
}

extension SalesChecks {
    func ownerIsAUser() async throws {
        let email = "\(TestEnvironment.uniqueName("ana"))@example.com".lowercased()
        let ana = try await staffUser("Ana", email: email)

        let byEmail = try await deal(["title": "By e-mail", "owner": email.uppercased()])
        #expect(byEmail["owner"] as? String == ana, "an e-mail address in any case is stored as the user's id")
        let byId = try await deal(["title": "By id", "owner": ana.uppercased()])
        #expect(byId["owner"] as? String == ana)
        let listed = try await api.get("/api/v1/deals?owner=\(email.replacingOccurrences(of: "@", with: "%40"))")
        #expect(Set(listed.items.compactMap { $0["id"] as? String }) == Set([byEmail["id"], byId["id"]].compactMap { $0 as? String }))
        let nobody = try await api.get("/api/v1/deals?owner=nobody%40example.com")
        #expect(nobody.status == 422 && nobody.text.contains("owner"), "a filter by an address of nobody is a typing error: \(nobody.text)")

        for (path, body) in [
            ("/api/v1/deals", ["title": "X", "amount": Self.money("1", "EUR"), "owner": "sam"]),
            ("/api/v1/leads", ["last_name": "X", "owner": UUID().uuidString]),
            ("/api/v1/activities", ["kind": "task", "subject": "X", "due_at": "2099-01-01T00:00:00Z", "owner": "someone@example.com"]),
            ("/api/v1/call-lists", ["name": TestEnvironment.uniqueName("list"), "owner": "sam"]),
        ] as [(String, [String: Any])] {
            let refused = try await api.post(path, body)
            #expect(refused.status == 422, "\(path): \(refused.text)")
            #expect(refused.json["errors"].map { "\($0)" }?.contains("owner") == true, "\(path): \(refused.text)")
            #expect(refused.text.contains("is not a user"), "\(path): \(refused.text)")
        }

        try await StaffFixture.deactivate(ana, email: email, SalesService.definition, service)
        let gone = try await api.post("/api/v1/deals", ["title": "After leaving", "amount": Self.money("1", "EUR"), "owner": ana])
        #expect(gone.status == 422 && gone.text.contains("deactivated"), "\(gone.text)")
        let dealId = try #require(byId["id"] as? String)
        let renamed = try await api.send("PATCH", "/api/v1/deals/\(dealId)", json: ["title": "Still Ana's"], headers: ["If-Match": "\"1\""])
        #expect(renamed.status == 200 && renamed.json["owner"] as? String == ana, "a deactivated user's work stays theirs until it is given away")
        #expect(try await api.get("/api/v1/deals?owner=\(email.replacingOccurrences(of: "@", with: "%40"))").items.count == 2)
        let handedOver = try await api.send("PATCH", "/api/v1/deals/\(dealId)", json: ["owner": try await staffUser("Ben")], headers: ["If-Match": "\"2\""])
        #expect(handedOver.status == 200, "\(handedOver.text)")
    }

    func legacyOwner() async throws {
        let deal = try await deal(["title": "Old deal"])
        let id = try #require(deal["id"] as? String)
        // What an installation kept from before owners were users: a name typed as text.
        let legacy = TestEnvironment.uniqueName("sam")
        try await service.client.transaction(logger: service.logger) { connection in
            try await connection.query(.init(unsafeSQL: "UPDATE \(service.schema.table("deals")) SET owner = '\(legacy)' WHERE id = '\(id)'"), logger: service.logger)
        }
        #expect(try await api.get("/api/v1/deals/\(id)").json["owner"] as? String == legacy)
        #expect(try await api.get("/api/v1/deals?owner=\(legacy)").items.count == 1)
        let patched = try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["probability": 55], headers: ["If-Match": "\"1\""])
        #expect(patched.status == 200 && patched.json["owner"] as? String == legacy, "\(patched.text)")
        let resent = try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["owner": legacy, "title": "Old deal, renamed"], headers: ["If-Match": "\"2\""])
        #expect(resent.status == 200 && resent.json["owner"] as? String == legacy, "a form sends the owner back as it was: \(resent.text)")
        let other = try await api.send("PATCH", "/api/v1/deals/\(id)", json: ["owner": "another name"], headers: ["If-Match": "\"3\""])
        #expect(other.status == 422, "a changed owner is a user: \(other.text)")
    }
}
