import ContactsService
import Foundation
import TestSupport
import Testing

/// A CSV file says nothing of its charset: bytes that are not UTF-8 fail their rows with a reason,
/// unless the upload names the charset, and then they are read in it. Before, a Latin-1 file
/// imported as "J�rgen M�ller", completed with nothing failed. In-process, with the import worker.
@Suite("CSV import: charsets and bytes that are not text", .timeLimit(.minutes(3)))
struct ImportCharsetTests {
    func withAPI(_ body: @Sendable (ImportCharsetChecks) async throws -> Void) async throws {
        try await InProcessService.run(ContactsService.definition) { api, _ in try await body(ImportCharsetChecks(api: api)) }
    }

    @Test("a Latin-1 file uploaded as plain text/csv: every row fails, saying it is not UTF-8; nothing is stored garbled")
    func latin1WithoutCharset() async throws {
        try await withAPI { try await $0.latin1WithoutCharset() }
    }

    @Test("the same file uploaded as text/csv; charset=iso-8859-1 imports its names as they are")
    func latin1WithCharset() async throws {
        try await withAPI { try await $0.latin1WithCharset() }
    }

    @Test("a row with a NUL byte fails with its reason and is reported; the rows around it import; every row is counted once")
    func nulRow() async throws {
        try await withAPI { try await $0.nulRow() }
    }

    @Test("a charset the import cannot read is a 415 naming those it can")
    func unknownCharset() async throws {
        try await withAPI { try await $0.unknownCharset() }
    }
}

struct ImportCharsetChecks {
    let api: APIClient

    func upload(_ bytes: [UInt8], contentType: String) async throws -> APIClient.Answer {
        try await api.send("POST", "/api/v1/imports", body: Data(bytes), headers: ["Content-Type": contentType])
    }

    func finished(_ answer: APIClient.Answer) async throws -> [String: Any] {
        try #require(answer.status == 202, "\(answer.text)")
        let id = try #require(answer.json["id"] as? String)
        var job: [String: Any] = [:]
        let done = try await TestEnvironment.eventually(timeout: .seconds(60), every: .milliseconds(100)) {
            job = try await api.get("/api/v1/imports/\(id)").json
            return ["completed", "failed"].contains(job["status"] as? String)
        }
        try #require(done, "the import finished: \(job)")
        return job
    }

    /// Each count of the job, which must add up to the rows done.
    func counts(_ job: [String: Any]) -> (done: Int, created: Int, updated: Int, skipped: Int, failed: Int) {
        (job["rows_done"] as? Int ?? -1, job["created"] as? Int ?? -1, job["updated"] as? Int ?? -1, job["skipped"] as? Int ?? -1,
         job["failed"] as? Int ?? -1)
    }

    /// "Jürgen Müller" and "Zoë" in ISO-8859-1: ü is 0xFC, ë 0xEB, neither valid UTF-8 alone.
    func latin1File(_ tag: String) -> [UInt8] {
        Array("first_name,last_name,email,tags\n".utf8) + [0x4A, 0xFC] + Array("rgen,M".utf8) + [0xFC] + Array("ller,\(tag)-j@example.com,\(tag)\n".utf8)
            + Array("Zo".utf8) + [0xEB] + Array(",Brown,\(tag)-z@example.com,\(tag)\n".utf8)
    }

    func latin1WithoutCharset() async throws {
        let tag = TestEnvironment.uniqueName("latin")
        let job = try await finished(try await upload(latin1File(tag), contentType: "text/csv"))
        #expect(job["charset"] as? String == "utf-8")
        let c = counts(job)
        #expect(c.done == 2 && c.failed == 2 && c.created == 0, "\(job)")
        #expect(c.created + c.updated + c.skipped + c.failed == c.done)
        let report = try await api.get("/api/v1/imports/\(job["id"] as! String)/errors")
        #expect(report.text.contains("is not valid UTF-8"), "\(report.text)")
        #expect(report.text.contains("charset=iso-8859-1"), "the reason says how to name the charset")
        #expect(try await api.get("/api/v1/contacts?tag=\(tag)").items.isEmpty)
    }

    func latin1WithCharset() async throws {
        let tag = TestEnvironment.uniqueName("latin")
        let job = try await finished(try await upload(latin1File(tag), contentType: "text/csv; charset=ISO-8859-1"))
        #expect(job["charset"] as? String == "iso-8859-1")
        let c = counts(job)
        #expect(c.done == 2 && c.created == 2 && c.failed == 0, "\(job)")
        let names = try await api.get("/api/v1/contacts?tag=\(tag)").items.map { "\($0["first_name"] as? String ?? "") \($0["last_name"] as? String ?? "")" }
        #expect(Set(names) == ["Jürgen Müller", "Zoë Brown"])
    }

    func nulRow() async throws {
        let tag = TestEnvironment.uniqueName("nul")
        let bytes = Array("first_name,last_name,email,tags\nAnn,Before,\(tag)-a@example.com,\(tag)\nBo".utf8) + [0]
            + Array("b,Null,\(tag)-b@example.com,\(tag)\nCy,After,\(tag)-c@example.com,\(tag)\n".utf8)
        let job = try await finished(try await upload(bytes, contentType: "text/csv"))
        let c = counts(job)
        #expect(c.done == 3 && c.created == 2 && c.failed == 1, "\(job)")
        #expect(c.created + c.updated + c.skipped + c.failed == c.done)
        let report = try await api.get("/api/v1/imports/\(job["id"] as! String)/errors")
        let lines = report.text.split(separator: "\r\n").map(String.init)
        #expect(lines.count == 2, "\(report.text)")
        #expect(lines.last?.hasPrefix("2,") == true && lines.last?.contains("NUL") == true, "\(lines)")
        #expect(lines.last?.contains("Bo\u{2400}b") == true, "the row as it was, its NUL shown as ␀")
    }

    func unknownCharset() async throws {
        let answer = try await upload(Array("last_name\nX\n".utf8), contentType: "text/csv; charset=utf-16")
        #expect(answer.status == 415)
        #expect((answer.json["detail"] as? String)?.contains("iso-8859-1") == true, "\(answer.text)")
    }
}
