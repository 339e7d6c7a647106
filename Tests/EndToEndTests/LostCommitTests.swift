import Foundation
import PostgresNIO
import Testing
import TestSupport

/// A commit whose outcome the service cannot know: its connection terminated between a statement
/// and the commit, or during it. Before, a create could be answered 201 without being stored.
@Suite("Commits whose outcome is lost", .serialized, .timeLimit(.minutes(4)))
struct LostCommitTests {
    @Test("contacts' connections terminated at random while four clients create: no 201 without its contact; a retry with the same key finds the truth")
    func terminatedBackends() async throws {
        try await TestEnvironment.withClient { admin in
            let load = ContactLoad()
            let loading = Task { await load.run(clients: 4) }
            // A backend inside a transaction (between its statements, or at its commit) or running one.
            let terminate = PostgresQuery(unsafeSQL: """
                SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int8 FROM (
                    SELECT pid FROM pg_stat_activity
                    WHERE usename = 'contacts' AND backend_type = 'client backend' AND state IN ('idle in transaction', 'active')
                    ORDER BY random() LIMIT 1) chosen
                """)
            var terminated = 0
            let end = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < end {
                for try await count in try await admin.query(terminate).decode(Int.self) { terminated += count }
                try await Task.sleep(for: .milliseconds(20))
            }
            load.stop()
            await loading.value

            try await load.checkStored(admin)
            let problems = load.all.flatMap(\.problems)
            let unknown = problems.filter { $0.hasSuffix("commit-outcome-unknown") }.count
            let unavailable = problems.filter { $0.hasSuffix("database-unavailable") }.count
            #expect(terminated >= 50, "terminated \(terminated) backends")
            #expect(unknown + unavailable > 0, "some creates met a terminated backend and said so: \(Set(problems))")
            print("lost-commit test: \(load.all.count) creates, \(terminated) backends terminated, \(unavailable) database-unavailable, \(unknown) commit-outcome-unknown")
        }
    }
}
