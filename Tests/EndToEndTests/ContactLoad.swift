import Foundation
import PostgresNIO
import Synchronization
import Testing
import TestSupport

/// Clients creating contacts through the gateway as fast as they can, each create with an
/// Idempotency-Key, sending the same request again after a 5xx or a lost answer, as a careful
/// client does, until it is answered 201 (or gives up after a minute).
final class ContactLoad: Sendable {
    struct Create: Sendable {
        var key: String
        var email: String
        /// Every answer in order: its status, or 0 when none came.
        var statuses: [Int] = []
        /// Problem types of the 5xx answers (`commit-outcome-unknown`, `database-unavailable`, …).
        var problems: [String] = []
        var id: String?
    }

    let tag = TestEnvironment.uniqueName("load")
    private let creates = Mutex<[Create]>([])
    private let stopped = Mutex(false)

    var all: [Create] { creates.withLock { $0 } }

    func stop() { stopped.withLock { $0 = true } }

    /// Runs `clients` loops until `stop()`; each finishes the create it is on before it returns.
    func run(clients: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    let api = APIClient()
                    var number = 0
                    while !self.stopped.withLock({ $0 }) {
                        number += 1
                        await self.create("\(self.tag)-\(client)-\(number)", api: api)
                    }
                }
            }
        }
    }

    private func create(_ name: String, api: APIClient) async {
        var create = Create(key: UUID().uuidString, email: "\(name)@load.example.com")
        let giveUp = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < giveUp {
            do {
                let answer = try await api.post(
                    "/api/v1/contacts", ["first_name": "Load", "last_name": name, "emails": [["address": create.email]]],
                    headers: ["Idempotency-Key": create.key]
                )
                create.statuses.append(answer.status)
                if answer.status == 201 {
                    create.id = answer.json["id"] as? String
                    break
                }
                if answer.status >= 500 || answer.status == 409 {
                    create.problems.append(answer.json["type"] as? String ?? "\(answer.status)")
                    try? await Task.sleep(for: .milliseconds(200))
                    continue
                }
                break  // a 4xx other than an idempotency conflict: a defect the assertions show
            } catch {
                create.statuses.append(0)
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let done = create
        creates.withLock { $0.append(done) }
    }

    /// What must hold after any fault: every create answered 201 is stored, every create was
    /// answered 201 in the end, and each stored exactly once, however often it was sent.
    func checkStored(_ admin: PostgresClient, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let all = all
        let acknowledged = all.compactMap(\.id)
        #expect(acknowledged.count == all.count, "every create got its 201 in the end: \(all.filter { $0.id == nil }.map(\.statuses))", sourceLocation: sourceLocation)
        let stored = try await Self.column(
            "SELECT id::text FROM contacts.contacts WHERE email_keys && $1::text[]", binds: all.map(\.email), admin
        )
        #expect(Set(acknowledged).isSubset(of: Set(stored)), "answered 201 but missing: \(Set(acknowledged).subtracting(stored))", sourceLocation: sourceLocation)
        #expect(stored.count == all.count, "each create stored once: \(stored.count) contacts for \(all.count) creates", sourceLocation: sourceLocation)
    }

    static func column(_ sql: String, binds values: [String], _ client: PostgresClient) async throws -> [String] {
        var binds = PostgresBindings()
        binds.append(values)
        return try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds)).decode(String.self).reduce(into: []) { $0.append($1) }
    }
}
