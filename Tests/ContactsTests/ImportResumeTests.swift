@testable import ContactsService
import Contracts
import Foundation
import Hummingbird
import Messaging
import NIOCore
import PostgresNIO
import ServiceKit
import Storage
import Testing
import TestSupport

/// The import worker against a schema of its own, so the test can kill a worker mid-file.
@Suite("Import resumes after a crash", .timeLimit(.minutes(3)))
struct ImportResumeTests {
    @Test("a worker killed mid-file leaves whole batches; another resumes after the lease and every row is applied once")
    func resumeAfterCrash() async throws {
        try await withContactsSchema("contacts_import") { schema, client in
            let contacts = ContactStore(service: .testing(schema, client))
            let imports = ImportStore(service: .testing(schema, client))

            // 3,000 rows: every 100th has no name (fails), the last repeats the first e-mail (skipped).
            var csv = "first_name,last_name,email\n"
            for row in 1...2_999 {
                csv += row % 100 == 0 ? ",,row\(row)@example.com\n" : "R\(row),Person,row\(row)@example.com\n"
            }
            csv += "Again,Person,ROW1@example.com\n"
            let job = try await imports.upload(
                RequestBody(buffer: ByteBuffer(string: csv)), filename: nil, mapping: [:], onDuplicate: .skip, createdBy: "test"
            ).decode(JobProgress.self)
            #expect(job.rowsTotal == 3_000)

            func progress() async throws -> JobProgress { try await imports.get(job.id).decode(JobProgress.self) }
            func worker() -> ImportWorker {
                ImportWorker(service: .testing(schema, client), contacts: contacts, batchSize: 100)
            }

            let first = Task { try await worker().run() }
            #expect(try await TestEnvironment.eventually(timeout: .seconds(60), every: .milliseconds(20)) { try await progress().rowsDone >= 500 })
            first.cancel()  // no graceful stop, mid-batch
            _ = await first.result
            // A replica that died holds its lease until it runs out.
            try await client.query(PostgresQuery(unsafeSQL: "UPDATE \(schema.table("import_jobs")) SET lease_until = now() + interval '1 hour'"))
            let stopped = try await progress()
            #expect(stopped.status == "running")
            #expect(stopped.rowsDone < 3_000, "stopped mid-file")
            #expect(stopped.rowsDone % 100 == 0, "only whole batches commit")
            let contactCount = try await TestEnvironment.count("SELECT count(*) FROM \(schema.table("contacts"))", client)
            #expect(Int64(contactCount) == stopped.created, "progress and contacts commit together")

            let waiting = Task { try await worker().run() }
            try await Task.sleep(for: .milliseconds(800))
            #expect(try await progress().rowsDone == stopped.rowsDone, "a live lease keeps other workers off the job")
            try await client.query(PostgresQuery(unsafeSQL: "UPDATE \(schema.table("import_jobs")) SET lease_until = now() - interval '1 second'"))
            #expect(try await TestEnvironment.eventually(timeout: .seconds(60)) { try await progress().status == "completed" })
            waiting.cancel()
            _ = await waiting.result

            let done = try await progress()
            #expect(done.rowsDone == 3_000)
            #expect(done.failed == 29)
            #expect(done.skipped == 1)
            #expect(done.created == 2_970)
            #expect(try await TestEnvironment.count("SELECT count(*) FROM \(schema.table("contacts"))", client) == 2_970)
            #expect(try await TestEnvironment.count("SELECT count(DISTINCT email_keys[1]) FROM \(schema.table("contacts"))", client) == 2_970)
            #expect(try await TestEnvironment.count("SELECT count(*) FROM \(schema.table("outbox")) WHERE type = 'contacts.contact.created'", client) == 2_970,
                    "one event per contact, none twice")
            #expect(try await TestEnvironment.count("SELECT count(*) FROM \(schema.table("import_errors"))", client) == 29)
            // The events built in the database read like the ones built here.
            let payload = try await client.texts(
                PostgresQuery(unsafeSQL: "SELECT payload::text FROM \(schema.table("outbox")) ORDER BY seq LIMIT 1"), logger: TestEnvironment.logger
            )[0]
            let event = try EventEnvelope.decode(Array(payload.utf8))
            let contact = try event.payload(as: Contact.self)
            #expect(event.type == ContactEvents.contactCreated)
            #expect(event.producer == "contacts")
            #expect(event.aggregateId == contact.id)
            #expect(event.aggregateVersion == 1)
            #expect(event.correlationId == event.id)
            #expect(try await TestEnvironment.count("SELECT count(*) FROM \(schema.table("import_chunks"))", client) == 0, "the file is dropped when done")
        }
    }
}

struct JobProgress: Decodable {
    var id: UUID
    var status: String
    var rowsTotal: Int64?
    var rowsDone: Int64
    var created: Int64
    var skipped: Int64
    var failed: Int64

    enum CodingKeys: String, CodingKey {
        case id, status, created, skipped, failed
        case rowsTotal = "rows_total"
        case rowsDone = "rows_done"
    }
}
