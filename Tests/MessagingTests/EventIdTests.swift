import Foundation
import Messaging
import PostgresNIO
import Storage
import Testing
import TestSupport

@Suite("Event ids in SQL", .timeLimit(.minutes(1)))
struct EventIdTests {
    @Test("time_ordered_uuid() makes version 7 ids with the database's current millisecond first, and appendEvents uses it")
    func timeOrderedInSQL() async throws {
        try await TestEnvironment.withClient { client in
            let fixture = try MessagingFixture(client: client)
            try await fixture.migrate()
            var sql = SQLBuilder()
            sql.append("WITH source AS (SELECT \(try sql.bind(UUID()))::uuid AS aggregate_id, 1::int8 AS aggregate_version, '{}'::jsonb AS data), events AS (")
            try fixture.outbox.appendEvents(from: "source", type: "test.ordered", producer: "test", into: &sql)
            sql.append("""
                 RETURNING id) SELECT id::text, \(fixture.schema.quoted).time_ordered_uuid()::text,
                    (extract(epoch FROM clock_timestamp()) * 1000)::int8 FROM events
                """)
            var rows: [(String, String, Int64)] = []
            for try await row in try await client.query(sql.query).decode((String, String, Int64).self) { rows.append(row) }
            let (appended, made, now) = try #require(rows.first)
            for id in [appended, made] {
                let hex = Array(id.replacingOccurrences(of: "-", with: ""))
                #expect(hex[12] == "7" && "89ab".contains(hex[16]), "\(id) is not a version 7 UUID")
                let milliseconds = try #require(Int64(String(hex.prefix(12)), radix: 16))
                #expect(abs(milliseconds - now) < 1_000, "\(id) carries \(milliseconds), the database's clock says \(now)")
            }
            try await fixture.drop()
        }
    }
}
