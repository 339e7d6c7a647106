@testable import ContactsService
import Foundation
import Hummingbird
import Messaging
import NIOCore
import PostgresNIO
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("Import limits and cancellation", .timeLimit(.minutes(2)))
struct ImportLimitsTests {
    @Test("an upload over the size limit is a 413 problem; its job is failed and its stored pieces dropped")
    func uploadLimit() async throws {
        try await withContactsSchema("contacts_limits") { schema, client in
            var imports = ImportStore(service: .testing(schema, client))
            imports.maximumBytes = 1_000
            let csv = "last_name\n" + String(repeating: "Somebody\n", count: 200)
            do {
                _ = try await imports.upload(RequestBody(buffer: ByteBuffer(string: csv)), filename: nil, mapping: [:], onDuplicate: .skip, createdBy: nil)
                Issue.record("an upload over the limit was accepted")
            } catch let error as ContactsError {
                #expect(error.problem.statusCode == 413, "\(error)")
            }
            #expect(try await TestEnvironment.count("SELECT count(*) FROM \(schema.table("import_jobs")) WHERE status = 'failed'", client) == 1)
            #expect(try await TestEnvironment.count("SELECT count(*) FROM \(schema.table("import_chunks"))", client) == 0)
        }
    }

    @Test("a job whose status an operator changes stops at the next batch and keeps that status")
    func cancelled() async throws {
        try await withContactsSchema("contacts_limits") { schema, client in
            let contacts = ContactStore(service: .testing(schema, client))
            let imports = ImportStore(service: .testing(schema, client))
            var csv = "first_name,last_name,email\n"
            for row in 1...5_000 { csv += "R\(row),Person,stop\(row)@example.com\n" }
            let job = try await imports.upload(
                RequestBody(buffer: ByteBuffer(string: csv)), filename: nil, mapping: [:], onDuplicate: .skip, createdBy: nil
            ).identity.id
            func rowsDone() async throws -> Int {
                try await TestEnvironment.count("SELECT rows_done FROM \(schema.table("import_jobs"))", client)
            }
            let worker = Task {
                try await ImportWorker(service: .testing(schema, client), contacts: contacts, batchSize: 50)
                    .run()
            }
            #expect(try await TestEnvironment.eventually(timeout: .seconds(30), every: .milliseconds(10)) { try await rowsDone() >= 200 })
            try await client.query(PostgresQuery(unsafeSQL: "UPDATE \(schema.table("import_jobs")) SET status = 'failed', error = 'cancelled by a test'"))
            let stoppedAt = try await rowsDone()
            try await Task.sleep(for: .seconds(1))
            worker.cancel()
            _ = await worker.result
            #expect(try await rowsDone() == stoppedAt, "no batch committed after the cancel")
            #expect(stoppedAt < 5_000)
            #expect(try await imports.get(job).decode(JobProgress.self).status == "failed")
            #expect(try await TestEnvironment.count("SELECT count(*) FROM \(schema.table("contacts"))", client) == stoppedAt)
        }
    }
}
