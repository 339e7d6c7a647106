import ContactsService
import Foundation
import TestSupport
import Testing

/// CSV import and export, in-process on a schema of each test's own, with the import worker running.
@Suite("CSV import and export", .timeLimit(.minutes(3)))
struct ImportExportTests {
    func withAPI(_ body: @Sendable (ImportExportChecks) async throws -> Void) async throws {
        try await InProcessService.run(ContactsService.definition) { api, _ in try await body(ImportExportChecks(api: api)) }
    }

    @Test("good, bad and duplicate rows give exact counts and an error report naming each failed row")
    func importCounts() async throws {
        try await withAPI { try await $0.importCounts() }
    }

    @Test("on_duplicate=update writes the row onto the matching contact")
    func importUpdates() async throws {
        try await withAPI { try await $0.importUpdates() }
    }

    @Test("a file without a name column, and one that is not CSV, are refused at upload")
    func refusedUploads() async throws {
        try await withAPI { try await $0.refusedUploads() }
    }

    @Test("export streams the filtered contacts as CSV that imports back to the same contacts")
    func exportRoundTrip() async throws {
        try await withAPI { try await $0.exportRoundTrip() }
    }

    @Test("export neutralises cells a spreadsheet would run as formulas, and import restores them")
    func exportNeutralisesFormulas() async throws {
        try await withAPI { try await $0.exportNeutralisesFormulas() }
    }
}

struct ImportExportChecks {
    let api: APIClient

    func upload(_ csv: String, query: String = "") async throws -> [String: Any] {
        let answer = try await api.send("POST", "/api/v1/imports" + query, body: Data(csv.utf8), headers: ["Content-Type": "text/csv"])
        try #require(answer.status == 202, "\(answer.text)")
        return answer.json
    }

    func finished(_ id: String) async throws -> [String: Any] {
        var job: [String: Any] = [:]
        let done = try await TestEnvironment.eventually(timeout: .seconds(60), every: .milliseconds(100)) {
            job = try await api.get("/api/v1/imports/\(id)").json
            return job["status"] as? String == "completed" || job["status"] as? String == "failed"
        }
        try #require(done, "the import finished: \(job)")
        return job
    }

    func importCounts() async throws {
        let tag = TestEnvironment.uniqueName("imp")
        let existing = "\(tag)-existing@example.com"
        let phone = "+49 30 \(Int.random(in: 100...999)) \(Int.random(in: 1000...9999))"
        #expect(try await api.post("/api/v1/contacts", ["last_name": "Already", "emails": [["address": existing]]]).status == 201)
        let csv = """
            First Name,Surname,E-Mail,Phone,Tags,Lead Source,Notes
            Ann,Archer,\(tag)-ann@example.com,\(phone),\(tag);vip,web,ignored
            Bob,"Baker, Jr.",\(tag)-bob@example.com,,\(tag),referral,
            Cid,Cole,not-an-email,,\(tag),,
            Dee,Dunn,\(existing.uppercased()),,\(tag),,
            Ann,Again,\(tag)-ANN@example.com,,\(tag),,
            Eve,Evans,\(tag)-eve@example.com,,\(tag),television,
            ,,\(tag)-nobody@example.com,,\(tag),,
            "Fay","Multi
            Line",\(tag)-fay@example.com,,\(tag),exhibition,

            """
        let queued = try await upload(csv, query: "?filename=people.csv")
        #expect(queued["rows_total"] as? Int == 8)
        #expect(queued["ignored_columns"] as? [String] == ["Notes"])
        let id = try #require(queued["id"] as? String)
        let job = try await finished(id)
        #expect(job["status"] as? String == "completed")
        #expect(job["rows_done"] as? Int == 8)
        #expect(job["created"] as? Int == 3, "Ann, Bob, Fay: \(job)")
        #expect(job["skipped"] as? Int == 2, "Dee matches a contact, Ann Again an earlier row")
        #expect(job["failed"] as? Int == 3, "Cid, Eve, the nameless row")
        #expect(job["updated"] as? Int == 0)

        let report = try await api.get("/api/v1/imports/\(id)/errors")
        #expect(report.status == 200)
        #expect(report.header("Content-Type")?.hasPrefix("text/csv") == true)
        let lines = report.text.split(separator: "\r\n").map(String.init)
        #expect(lines.first == "row,reason,raw")
        #expect(lines.count == 4, "\(report.text)")
        #expect(lines.dropFirst().map { String($0.prefix(while: { $0 != "," })) } == ["3", "6", "7"])
        #expect(report.text.contains("emails[0].address"))
        #expect(report.text.contains("television"))

        let imported = try await api.get("/api/v1/contacts?tag=\(tag)&sort=name")
        #expect(imported.items.compactMap { $0["last_name"] as? String } == ["Archer", "Baker, Jr.", "Multi\nLine"])
        let ann = try #require(imported.items.first)
        #expect(ann["tags"] as? [String] == [tag, "vip"])
        #expect(ann["lead_source"] as? String == "web")
        #expect((ann["phones"] as? [[String: Any]])?.first?["number"] as? String == phone)
    }

    func importUpdates() async throws {
        let email = "\(TestEnvironment.uniqueName("upd"))@example.com"
        let created = try await api.post("/api/v1/contacts", ["first_name": "Old", "last_name": "Name", "emails": [["address": email]], "tags": ["keep"]])
        let id = try #require(created.json["id"] as? String)
        let queued = try await upload("last_name,email,position,tags\nName,\(email),Buyer,new\n", query: "?on_duplicate=update")
        let job = try await finished(try #require(queued["id"] as? String))
        #expect(job["updated"] as? Int == 1, "\(job)")
        let contact = try await api.get("/api/v1/contacts/\(id)").json
        #expect(contact["position"] as? String == "Buyer")
        #expect(contact["first_name"] as? String == "Old", "an empty column changes nothing")
        #expect(contact["tags"] as? [String] == ["keep", "new"])
        #expect(contact["version"] as? Int == 2)
    }

    func refusedUploads() async throws {
        let noName = try await api.send("POST", "/api/v1/imports", body: Data("email\na@example.com\n".utf8), headers: ["Content-Type": "text/csv"])
        #expect(noName.status == 422)
        #expect(noName.header("Content-Type") == "application/problem+json")
        let json = try await api.send("POST", "/api/v1/imports", body: Data("{}".utf8), headers: ["Content-Type": "application/json"])
        #expect(json.status == 415)
        let mapping = try await api.send("POST", "/api/v1/imports?mapping=%7B%22x%22%3A%22nope%22%7D", body: Data("last_name\nX\n".utf8),
                                         headers: ["Content-Type": "text/csv"])
        #expect(mapping.status == 422)
    }

    func exportRoundTrip() async throws {
        let tag = TestEnvironment.uniqueName("exp")
        for index in 0..<3 {
            let created = try await api.post("/api/v1/contacts", [
                "first_name": "Ex\(index)", "last_name": "Port, \"Q\"", "tags": [tag], "emails": [["address": "\(tag)-\(index)@example.com"]],
                "address": ["city": "Köln", "country": "DE"], "buying_priorities": ["price", "quality"],
                "consent": ["sms": ["granted": false]],
            ])
            #expect(created.status == 201)
        }
        let export = try await api.get("/api/v1/contacts/export?tag=\(tag)&sort=name")
        #expect(export.status == 200)
        #expect(export.header("Content-Type")?.hasPrefix("text/csv") == true)
        let lines = export.text.split(separator: "\r\n")
        #expect(lines.count == 4, "a header and three rows: \(export.text)")
        #expect(lines.first?.hasPrefix("id,first_name,last_name,email,phone") == true)

        // The same file, re-tagged and with new addresses, imports as three new contacts equal to the old ones.
        let copyTag = tag + "_copy"
        let copy = export.text.replacingOccurrences(of: tag, with: copyTag)
        let job = try await finished(try #require(try await upload(copy)["id"] as? String))
        #expect(job["created"] as? Int == 3, "\(job)")
        #expect(job["failed"] as? Int == 0)
        let originals = try await api.get("/api/v1/contacts?tag=\(tag)&sort=name").items
        let copies = try await api.get("/api/v1/contacts?tag=\(copyTag)&sort=name").items
        #expect(copies.count == 3)
        for (original, copy) in zip(originals, copies) {
            for field in ["first_name", "last_name", "address", "buying_priorities", "customer_type"] {
                #expect(original[field] as? NSObject == copy[field] as? NSObject, "\(field)")
            }
            #expect(((copy["consent"] as? [String: Any])?["sms"] as? [String: Any])?["granted"] as? Bool == false)
        }
    }

    func exportNeutralisesFormulas() async throws {
        let tag = TestEnvironment.uniqueName("fx")
        // Numbers of this run only: the copy must not be skipped as a duplicate of another contact.
        let (phone, copyPhone) = (Int.random(in: 1_000_000...4_999_999), Int.random(in: 5_000_000...9_999_999))
        let created = try await api.post("/api/v1/contacts", [
            "first_name": "=HYPERLINK(\"http://evil.example\",\"x\")", "last_name": "@SUM(A1)", "position": "-2+3",
            "phones": [["number": "+49 30 \(phone)"]], "tags": [tag],
        ])
        #expect(created.status == 201)
        let export = try await api.get("/api/v1/contacts/export?tag=\(tag)")
        let lines = export.text.split(separator: "\r\n")
        let row = try #require(lines.last)
        #expect(row.contains(#""'=HYPERLINK(""http://evil.example"",""x"")""#), "\(row)")
        #expect(row.contains(",'@SUM(A1),"), "\(row)")
        #expect(row.contains(",'+49 30 \(phone),"), "\(row)")
        #expect(row.contains(",'-2+3,"), "\(row)")

        let copyTag = tag + "_copy"
        let job = try await finished(try #require(try await upload(
            export.text.replacingOccurrences(of: tag, with: copyTag).replacingOccurrences(of: "\(phone)", with: "\(copyPhone)")
        )["id"] as? String))
        #expect(job["created"] as? Int == 1, "\(job)")
        let copy = try #require(try await api.get("/api/v1/contacts?tag=\(copyTag)").items.first)
        #expect(copy["first_name"] as? String == "=HYPERLINK(\"http://evil.example\",\"x\")")
        #expect(copy["last_name"] as? String == "@SUM(A1)")
        #expect(copy["position"] as? String == "-2+3")
        #expect(((copy["phones"] as? [[String: Any]])?.first?["number"] as? String) == "+49 30 \(copyPhone)")
    }
}
