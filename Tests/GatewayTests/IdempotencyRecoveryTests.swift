import Foundation
import PostgresNIO
import Testing
import TestSupport

/// A retry with the same Idempotency-Key finds what happened to the first request, even when the
/// gateway's record of it is gone or still says "in progress": the service keeps the answer in the
/// commit of the request's effects (its request ledger).
@Suite("Idempotent requests recover the truth", .serialized, .timeLimit(.minutes(2)))
struct IdempotencyRecoveryTests {
    let api = APIClient()

    func contacts(withEmail email: String, _ admin: PostgresClient) async throws -> Int {
        try await TestEnvironment.count("SELECT count(*)::int8 FROM contacts.contacts WHERE email_keys @> ARRAY['\(email)']", admin)
    }

    @Test("a claim whose request died holds its key only until its lease ends; the retry then gets the committed answer, not a second contact")
    func leaseAndLedger() async throws {
        try await TestEnvironment.withClient { admin in
            let key = UUID().uuidString
            let email = "\(TestEnvironment.uniqueName("ledger"))@example.com"
            let body: [String: Any] = ["last_name": "Ledger", "emails": [["address": email]]]
            let first = try await api.post("/api/v1/contacts", body, headers: ["Idempotency-Key": key])
            try #require(first.status == 201, "\(first.text)")

            // As if the gateway had died after the service committed: no stored answer, a claim in flight.
            try await admin.query(PostgresQuery(unsafeSQL: """
                UPDATE gateway.idempotency_records SET status = NULL, headers = NULL, body = NULL, claimed_until = now() + interval '30 seconds'
                WHERE key = '\(key)'
                """))
            let busy = try await api.post("/api/v1/contacts", body, headers: ["Idempotency-Key": key])
            #expect(busy.status == 409)
            #expect((busy.json["type"] as? String)?.hasSuffix("idempotency-in-progress") == true)
            let wait = Int(busy.header("Retry-After") ?? "") ?? 0
            #expect((1...30).contains(wait), "Retry-After says when the lease ends: \(wait)")

            try await admin.query(PostgresQuery(unsafeSQL: """
                UPDATE gateway.idempotency_records SET claimed_until = now() - interval '1 second' WHERE key = '\(key)'
                """))
            let retried = try await api.post("/api/v1/contacts", body, headers: ["Idempotency-Key": key])
            #expect(retried.status == 201, "\(retried.text)")
            #expect(retried.json["id"] as? String == first.json["id"] as? String, "the first request's contact, from the service's ledger")
            #expect(retried.header("Location") == first.header("Location"))
            #expect(try await contacts(withEmail: email, admin) == 1)
        }
    }

    @Test("straight to the service, the same request key twice: the second answer is the first, byte for byte, and one contact")
    func ledgerReplays() async throws {
        try await TestEnvironment.withClient { admin in
            let requestKey = (0..<4).map { _ in UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }.joined().prefix(64)
            let email = "\(TestEnvironment.uniqueName("ledger"))@example.com"
            let body = try JSONSerialization.data(withJSONObject: ["last_name": "Twice", "emails": [["address": email]]])
            let headers = ["X-Switchboard-Request-Key": String(requestKey)]
            let first = try await LocalStack.call("contacts", "POST", "/api/v1/contacts", body: body, headers: headers)
            let second = try await LocalStack.call("contacts", "POST", "/api/v1/contacts", body: body, headers: headers)
            #expect(first.status == 201, "\(first.text)")
            #expect(second.status == 201 && second.body == first.body, "\(second.text)")
            #expect(second.header("ETag") == first.header("ETag"))
            #expect(try await contacts(withEmail: email, admin) == 1)
            let bad = try await LocalStack.call("contacts", "POST", "/api/v1/contacts", body: body, headers: ["X-Switchboard-Request-Key": "short"])
            #expect(bad.status == 400)
        }
    }

    @Test("an upload retried after the gateway lost its record answers the job it made, unread, and makes no second")
    func uploadRetry() async throws {
        try await TestEnvironment.withClient { admin in
            let key = UUID().uuidString
            let tag = TestEnvironment.uniqueName("upload")
            let csv = Data("last_name,email\nRetry,\(tag)@example.com\n".utf8)
            let path = "/api/v1/imports?filename=\(tag).csv"
            let first = try await api.send("POST", path, body: csv, headers: ["Content-Type": "text/csv", "Idempotency-Key": key])
            try #require(first.status == 202, "\(first.text)")
            try await admin.query(PostgresQuery(unsafeSQL: "DELETE FROM gateway.idempotency_records WHERE key = '\(key)'"))
            let again = try await api.send("POST", path, body: csv, headers: ["Content-Type": "text/csv", "Idempotency-Key": key])
            #expect(again.status == 202, "\(again.text)")
            #expect(again.json["id"] as? String == first.json["id"] as? String)
            #expect(try await TestEnvironment.count("SELECT count(*)::int8 FROM contacts.import_jobs WHERE filename = '\(tag).csv'", admin) == 1)
        }
    }
}
