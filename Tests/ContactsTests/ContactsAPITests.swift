import ContactsService
import Foundation
import Testing
import TestSupport

/// The contacts API, driven in-process on a schema of each test's own (`InProcessService`): no
/// gateway, no broker. (Keys, roles and idempotency are the gateway's, in GatewayTests.)
@Suite("Contacts API", .timeLimit(.minutes(3)))
struct ContactsAPITests {
    func withAPI(_ body: @Sendable (ContactsAPIChecks) async throws -> Void) async throws {
        try await InProcessService.run(ContactsService.definition) { api, _ in try await body(ContactsAPIChecks(api: api)) }
    }

    @Test("create, read, update with If-Match, delete")
    func crud() async throws {
        try await withAPI { try await $0.crud() }
    }

    @Test("a stale version is 412, a missing one 428")
    func staleVersion() async throws {
        try await withAPI { try await $0.staleVersion() }
    }

    @Test("bad input is a 4xx problem naming the field, never a 500")
    func validation() async throws {
        try await withAPI { try await $0.validation() }
    }

    @Test("a second contact with the same e-mail or phone is 409 naming the first, unless allow_duplicate")
    func duplicateOnCreate() async throws {
        try await withAPI { try await $0.duplicateOnCreate() }
    }

    @Test("of twelve creates of one person at once, one is created and eleven are 409 naming it")
    func concurrentDuplicates() async throws {
        try await withAPI { try await $0.concurrentDuplicates() }
    }

    @Test("the duplicate scan groups contacts that share an e-mail; a merge moves interactions and the merged id resolves to the survivor")
    func scanAndMerge() async throws {
        try await withAPI { try await $0.scanAndMerge() }
    }

    @Test("lists filter and page with a cursor, and search finds any part of a name, e-mail or phone")
    func listAndSearch() async throws {
        try await withAPI { try await $0.listAndSearch() }
    }

    @Test("custom fields are checked against their definitions")
    func customFields() async throws {
        try await withAPI { try await $0.customFields() }
    }

    @Test("accounts: contacts take the account's name as company and follow a rename; an account with contacts is not deleted")
    func accounts() async throws {
        try await withAPI { try await $0.accounts() }
    }
}

/// The checks, each against the API it is given.
struct ContactsAPIChecks {
    let api: APIClient

    /// An e-mail no other test or run uses.
    static func email(_ name: String = "c") -> String { "\(TestEnvironment.uniqueName(name))@example.com" }

    func create(_ fields: [String: Any]) async throws -> [String: Any] {
        let answer = try await api.post("/api/v1/contacts", fields)
        try #require(answer.status == 201, "\(answer.text)")
        return answer.json
    }

    func crud() async throws {
        let email = Self.email()
        let created = try await api.post("/api/v1/contacts", [
            "first_name": " Grace ", "last_name": "Hopper", "emails": [["address": email.uppercased()]],
            "phones": [["number": "+1 (555) 010-7788", "label": "work"]], "lead_source": "exhibition",
            "purchase_purpose": "own_use", "buying_priorities": ["service", "price"], "payment_method": "invoice",
            "customer_type": "customer", "consent": ["email": ["granted": true]], "tags": ["navy", "navy", "cobol"],
            "address": ["city": "Arlington", "region": "Virginia", "country": "us"], "preferred_language": "en-US",
        ])
        #expect(created.status == 201, "\(created.text)")
        #expect(created.header("Content-Type") == "application/json")
        let contact = created.json
        let id = try #require(contact["id"] as? String)
        #expect(created.header("Location") == "/api/v1/contacts/\(id)")
        #expect(created.header("ETag") == "\"1\"")
        #expect(contact["first_name"] as? String == "Grace", "trimmed")
        #expect(contact["tags"] as? [String] == ["navy", "cobol"], "deduplicated")
        #expect((contact["address"] as? [String: Any])?["country"] as? String == "US")
        #expect(((contact["emails"] as? [[String: Any]])?.first?["primary"] as? Bool) == true, "the only e-mail is primary")
        #expect(((contact["consent"] as? [String: Any])?["email"] as? [String: Any])?["at"] is String, "consent stamped")

        let read = try await api.get("/api/v1/contacts/\(id)")
        #expect(read.status == 200)
        #expect(read.json["last_name"] as? String == "Hopper")

        let updated = try await api.send("PATCH", "/api/v1/contacts/\(id)", json: ["position": "Rear Admiral", "tags": NSNull()],
                                         headers: ["If-Match": "\"1\""])
        #expect(updated.status == 200, "\(updated.text)")
        #expect(updated.json["position"] as? String == "Rear Admiral")
        #expect(updated.json["tags"] as? [String] == [])
        #expect(updated.json["last_name"] as? String == "Hopper", "a merge patch keeps what it does not name")
        #expect(updated.json["version"] as? Int == 2)

        let deleted = try await api.send("DELETE", "/api/v1/contacts/\(id)", headers: ["If-Match": "\"2\""])
        #expect(deleted.status == 204)
        let gone = try await api.get("/api/v1/contacts/\(id)")
        #expect(gone.status == 404)
        #expect(gone.header("Content-Type") == "application/problem+json")
    }

    func staleVersion() async throws {
        let id = try #require(try await create(["last_name": "Stale", "emails": [["address": Self.email()]]])["id"] as? String)
        let first = try await api.send("PATCH", "/api/v1/contacts/\(id)", json: ["position": "A", "version": 1])
        #expect(first.status == 200)
        let stale = try await api.send("PATCH", "/api/v1/contacts/\(id)", json: ["position": "B"], headers: ["If-Match": "\"1\""])
        #expect(stale.status == 412)
        #expect(stale.json["current_version"] as? Int == 2)
        let missing = try await api.send("PATCH", "/api/v1/contacts/\(id)", json: ["position": "C"])
        #expect(missing.status == 428)
        #expect(try await api.get("/api/v1/contacts/\(id)").json["position"] as? String == "A")
    }

    func validation() async throws {
        func expectProblem(_ answer: APIClient.Answer, _ status: Int, field: String?, _ comment: Comment) {
            #expect(answer.status == status, comment)
            #expect(answer.header("Content-Type") == "application/problem+json", comment)
            if let field {
                let fields = (answer.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
                #expect(fields.contains(field), "\(comment): \(answer.text)")
            }
        }
        expectProblem(try await api.send("POST", "/api/v1/contacts", body: Data("{not json".utf8), headers: ["Content-Type": "application/json"]),
                      400, field: nil, "not JSON")
        expectProblem(try await api.post("/api/v1/contacts", ["last_name": 42]), 422, field: "last_name", "wrong type")
        expectProblem(try await api.post("/api/v1/contacts", ["last_name": "X", "lead_source": "television"]), 422, field: "lead_source", "unknown enum")
        expectProblem(try await api.post("/api/v1/accounts", ["industry": "mills"]), 422, field: "name", "missing required")
        expectProblem(try await api.post("/api/v1/contacts", ["last_name": "X", "emails": [["address": "no-at-sign"]]]), 422,
                      field: "emails[0].address", "bad e-mail")
        expectProblem(try await api.post("/api/v1/contacts", ["last_name": "X", "emails": [["label": "work"]]]), 422,
                      field: "emails[0].address", "missing nested field")
        let oversized = Data(("{\"last_name\": \"" + String(repeating: "x", count: 2 << 20) + "\"}").utf8)
        expectProblem(try await api.send("POST", "/api/v1/contacts", body: oversized, headers: ["Content-Type": "application/json"]),
                      413, field: nil, "oversized")
        expectProblem(try await api.get("/api/v1/contacts?limit=0"), 400, field: "limit", "bad limit")
        expectProblem(try await api.get("/api/v1/contacts?q=ab"), 400, field: "q", "short search")
        expectProblem(try await api.get("/api/v1/contacts/not-a-uuid"), 400, field: "id", "bad id")
        let forged = Data(#"["yesterday","not-a-uuid"]"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        expectProblem(try await api.get("/api/v1/contacts?cursor=\(forged)"), 400, field: "cursor", "a cursor with values of the wrong kind")
        expectProblem(try await api.post("/api/v1/contacts", ["last_name": "Nul\u{0}Byte"]), 422, field: "last_name", "a NUL character")
    }

    func duplicateOnCreate() async throws {
        let email = Self.email()
        let first = try await create(["first_name": "Alan", "last_name": "Turing", "emails": [["address": email]]])
        let again = try await api.post("/api/v1/contacts", ["last_name": "Turing", "emails": [["address": " \(email.uppercased()) "]]])
        #expect(again.status == 409)
        let existing = again.json["existing_contact"] as? [String: Any]
        #expect(existing?["id"] as? String == first["id"] as? String, "\(again.text)")

        let phone = "+44 161 \(Int.random(in: 100...999)) \(Int.random(in: 1000...9999))"
        _ = try await create(["last_name": "Phone", "phones": [["number": phone]]])
        let samePhone = try await api.post("/api/v1/contacts", ["last_name": "Other", "phones": [["number": "0044" + phone.dropFirst(3)]]])
        #expect(samePhone.status == 409, "the same number written another way: \(samePhone.text)")

        let allowed = try await api.post("/api/v1/contacts?allow_duplicate=true", ["last_name": "Turing", "emails": [["address": email]]])
        #expect(allowed.status == 201)
    }

    func concurrentDuplicates() async throws {
        let email = Self.email("same")
        let api = api
        let answers = try await withThrowingTaskGroup(of: APIClient.Answer.self) { group in
            for index in 0..<12 {
                group.addTask { try await api.post("/api/v1/contacts", ["last_name": "Twin \(index)", "emails": [["address": email]]]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let created = answers.filter { $0.status == 201 }
        try #require(created.count == 1, "\(answers.map(\.status))")
        let id = try #require(created[0].json["id"] as? String)
        let refused = answers.filter { $0.status == 409 }
        #expect(refused.count == 11, "\(answers.map(\.status))")
        for answer in refused {
            #expect((answer.json["existing_contact"] as? [String: Any])?["id"] as? String == id, "\(answer.text)")
        }
    }

    func scanAndMerge() async throws {
        let email = Self.email("dup")
        let survivor = try await create(["first_name": "Ada", "last_name": "Lovelace", "emails": [["address": email]], "tags": ["a"]])
        let other = try await create([
            "first_name": "Augusta", "last_name": "King", "emails": [["address": email], ["address": Self.email()]],
            "position": "Countess", "tags": ["b"], "allow_duplicate": true,
        ])
        let survivorId = try #require(survivor["id"] as? String)
        let otherId = try #require(other["id"] as? String)

        var found = false
        var cursor: String?
        repeat {
            let page = try await api.get("/api/v1/contacts/duplicates?limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(page.status == 200)
            for group in page.items where group["key"] as? String == email.lowercased() {
                let ids = (group["contacts"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                found = group["reason"] as? String == "email" && ids == [survivorId, otherId]
            }
            cursor = page.json["next_cursor"] as? String
        } while cursor != nil && !found
        #expect(found, "the two contacts form one group")

        for subject in ["first call", "second call"] {
            let logged = try await api.post("/api/v1/contacts/\(otherId)/interactions",
                                            ["channel": "phone", "direction": "outbound", "subject": subject])
            #expect(logged.status == 201, "\(logged.text)")
        }
        let merged = try await api.post("/api/v1/contacts/merge", [
            "survivor_id": survivorId, "merged_ids": [otherId], "fields": ["first_name": otherId],
        ])
        #expect(merged.status == 200, "\(merged.text)")
        #expect(merged.json["first_name"] as? String == "Augusta", "chosen field")
        #expect(merged.json["last_name"] as? String == "Lovelace", "survivor wins")
        #expect(merged.json["position"] as? String == "Countess", "blank filled from the merged contact")
        #expect(Set(merged.json["tags"] as? [String] ?? []) == ["a", "b"])
        #expect((merged.json["emails"] as? [[String: Any]])?.count == 2, "e-mails united without the shared one twice")

        let timeline = try await api.get("/api/v1/contacts/\(survivorId)/interactions")
        #expect(timeline.items.compactMap { $0["subject"] as? String } == ["second call", "first call"], "newest first")
        let resolved = try await api.get("/api/v1/contacts/\(otherId)")
        #expect(resolved.status == 200)
        #expect(resolved.json["id"] as? String == survivorId)
        #expect(resolved.header("Content-Location") == "/api/v1/contacts/\(survivorId)")
        #expect(try await api.get("/api/v1/contacts/\(otherId)/interactions").items.count == 2, "the old id's timeline is the survivor's")
    }

    func listAndSearch() async throws {
        let tag = TestEnvironment.uniqueName("tag")
        let marker = TestEnvironment.uniqueName("zq")
        for index in 0..<5 {
            _ = try await create([
                "first_name": "P\(index)", "last_name": "\(marker)", "tags": [tag], "emails": [["address": Self.email()]],
                "phones": [["number": "+49 30 \(Int.random(in: 1_000_000...9_999_999))"]],
            ])
        }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await api.get("/api/v1/contacts?tag=\(tag)&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(page.status == 200)
            seen += page.items.compactMap { $0["id"] as? String }
            cursor = page.json["next_cursor"] as? String
        } while cursor != nil
        #expect(seen.count == 5)
        #expect(Set(seen).count == 5, "no row twice across pages")

        let byName = try await api.get("/api/v1/contacts?q=\(marker.dropFirst(2).prefix(8))&sort=name")
        #expect(byName.items.count == 5)
        #expect(byName.items.compactMap { $0["first_name"] as? String } == ["P0", "P1", "P2", "P3", "P4"])
        let one = try await api.get("/api/v1/contacts?tag=\(tag)&limit=1").items.first
        let phone = try #require(((one?["phones"] as? [[String: Any]])?.first?["number"] as? String))
        let digits = String(phone.filter(\.isNumber).suffix(7))
        #expect(try await api.get("/api/v1/contacts?q=\(digits)&tag=\(tag)").items.count == 1, "by phone digits")
    }

    func customFields() async throws {
        let name = TestEnvironment.uniqueName("tier")
        // The service now holds the definitions in memory; a new one must count at once all the same.
        _ = try await create(["last_name": "Before the field"])
        let defined = try await api.post("/api/v1/custom-fields", [
            "entity": "contact", "name": name, "label": "Tier", "type": "enum", "allowed_values": ["gold", "silver"],
        ])
        #expect(defined.status == 201, "\(defined.text)")
        let good = try await api.post("/api/v1/contacts", ["last_name": "Custom", "custom_fields": [name: "gold"]])
        #expect(good.status == 201)
        let bad = try await api.post("/api/v1/contacts", ["last_name": "Custom", "custom_fields": [name: "bronze"]])
        #expect(bad.status == 422)
        #expect(bad.text.contains("custom_fields.\(name)"))
        let again = try await api.post("/api/v1/custom-fields", ["entity": "contact", "name": name, "type": "string"])
        #expect(again.status == 409)
        let id = try #require(defined.json["id"] as? String)
        #expect(try await api.send("DELETE", "/api/v1/custom-fields/\(id)").status == 204)
        let removed = try await api.post("/api/v1/contacts", ["last_name": "Custom", "custom_fields": [name: "gold"]])
        #expect(removed.status == 422, "a deleted field is refused at once: \(removed.text)")
    }

    func accounts() async throws {
        let account = try await api.post("/api/v1/accounts", ["name": "Difference Engines", "website": "engines.example.org", "size_band": "10-49"])
        #expect(account.status == 201, "\(account.text)")
        let accountId = try #require(account.json["id"] as? String)
        #expect(account.json["website"] as? String == "https://engines.example.org")
        let nowhere = try await api.post("/api/v1/contacts", ["last_name": "Nobody", "account_id": UUID().uuidString.lowercased()])
        #expect(nowhere.status == 422 && nowhere.text.contains("account_id"), "\(nowhere.text)")
        let contact = try await create(["last_name": "Babbage", "account_id": accountId, "emails": [["address": Self.email()]]])
        #expect(contact["company"] as? String == "Difference Engines")
        let renamed = try await api.send("PATCH", "/api/v1/accounts/\(accountId)", json: ["name": "Analytical Engines", "version": 1])
        #expect(renamed.status == 200, "\(renamed.text)")
        let members = try await api.get("/api/v1/accounts/\(accountId)/contacts")
        #expect(members.items.compactMap { $0["company"] as? String } == ["Analytical Engines"])
        #expect(try await api.send("DELETE", "/api/v1/accounts/\(accountId)").status == 409)
        let loop = try await api.send("PATCH", "/api/v1/accounts/\(accountId)", json: ["parent_account_id": accountId, "version": 2])
        #expect(loop.status == 422)
    }
}
