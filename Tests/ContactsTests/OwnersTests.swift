import ContactsService
import Foundation
import Testing
import TestSupport

/// Owners of contacts and accounts are users of Switchboard, as the service's copy of the staff
/// (from the gateway's identity.user.* events) knows them: by the API and by an import.
@Suite("Owners of contacts and accounts", .timeLimit(.minutes(3)))
struct OwnersTests {
    @Test("an owner is an active user by id or e-mail, kept as the id; an import's row with another owner fails alone, named")
    func ownersAreUsers() async throws {
        try await InProcessService.run(ContactsService.definition) { api, service in
            let tag = TestEnvironment.uniqueName("own")
            let email = "\(tag)-grace@example.com"
            let grace = try await StaffFixture.user(ContactsService.definition, service, name: "Grace", email: email)
            let gone = "\(tag)-gone@example.com"
            let leaver = try await StaffFixture.user(ContactsService.definition, service, name: "Leaver", email: gone)
            let keptEmail = "\(tag)-kept@example.com"
            let kept = try await api.post("/api/v1/contacts", ["last_name": "Kept by leaver", "emails": [["address": keptEmail]], "owner": leaver])
            #expect(kept.status == 201, "\(kept.text)")
            try await StaffFixture.deactivate(leaver, email: gone, ContactsService.definition, service)

            let created = try await api.post("/api/v1/contacts", ["last_name": "Owned", "owner": email.uppercased(), "tags": [tag]])
            #expect(created.status == 201, "\(created.text)")
            #expect(created.json["owner"] as? String == grace, "kept as the user's id")
            let unknown = try await api.post("/api/v1/contacts", ["last_name": "Nobody's", "owner": "grace"])
            #expect(unknown.status == 422 && unknown.text.contains("owner") && unknown.text.contains("is not a user"), "\(unknown.text)")
            let id = try #require(created.json["id"] as? String)
            let toLeaver = try await api.send("PATCH", "/api/v1/contacts/\(id)", json: ["owner": leaver], headers: ["If-Match": "\"1\""])
            #expect(toLeaver.status == 422 && toLeaver.text.contains("deactivated"), "\(toLeaver.text)")
            #expect(try await api.post("/api/v1/accounts", ["name": "\(tag) Ltd", "owner": grace]).status == 201)
            #expect(try await api.post("/api/v1/accounts", ["name": "\(tag) Two", "owner": leaver]).status == 422)

            let imports = ImportExportChecks(api: api)
            let queued = try await imports.upload("""
                Last Name,Owner,Tags
                Kept,\(email),\(tag)
                Typed,Grace Hopper,\(tag)
                Left,\(gone),\(tag)
                Unowned,,\(tag)

                """)
            let job = try await imports.finished(try #require(queued["id"] as? String))
            #expect(job["created"] as? Int == 2 && job["failed"] as? Int == 2, "\(job)")
            let report = try await api.get("/api/v1/imports/\(try #require(queued["id"] as? String))/errors").text
            #expect(report.contains("owner: \"\"Grace Hopper\"\" is not a user"), "\(report)")
            #expect(report.contains("owner: user \(gone) is deactivated"), "\(report)")

            let mine = try await api.get("/api/v1/contacts?owner=\(email.replacingOccurrences(of: "@", with: "%40"))&tag=\(tag)&sort=name")
            #expect(mine.items.compactMap { $0["last_name"] as? String } == ["Kept", "Owned"])
            #expect(mine.items.allSatisfy { $0["owner"] as? String == grace })
            #expect(try await api.get("/api/v1/contacts?owner=nobody%40example.com").status == 422)

            // An export imported again updates a contact whose owner has left since: that owner
            // is the contact's already, so the row changes the rest.
            let again = try await imports.upload("Last Name,E-Mail,Owner,Position\nKept by leaver,\(keptEmail),\(leaver),Buyer\n", query: "?on_duplicate=update")
            let updated = try await imports.finished(try #require(again["id"] as? String))
            #expect(updated["updated"] as? Int == 1 && updated["failed"] as? Int == 0, "\(updated)")
            let after = try await api.get("/api/v1/contacts/\(try #require(kept.json["id"] as? String))").json
            #expect(after["position"] as? String == "Buyer" && after["owner"] as? String == leaver, "\(after)")
        }
    }
}
