@testable import ContactsService
import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import NIOCore
import PostgresNIO
import ServiceKit
import Storage
import Testing
import TestSupport

/// A search takes one of three paths (a fifth of the walk, the whole walk, the trigram index),
/// chosen page by page from how often the term matched; each must give the same exact pages.
@Suite("Search pages are exact whichever path answers them", .timeLimit(.minutes(3)))
struct SearchPathsTests {
    @Test("every page of a common, a middling and a rare term holds exactly the next matches in id order")
    func exactPages() async throws {
        try await withContactsSchema("contacts_search") { schema, client in
            let contacts = ContactStore(service: .testing(schema, client))
            // 3,000 contacts: 'alpha' in every name, 'beta' in every 40th, 'gamma' in three, one
            // 'beta' deleted (a search never shows it).
            try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(schema.table("contacts")) (id, first_name, last_name, deleted_at)
                        SELECT gen_random_uuid(), 'alpha' || n,
                            CASE WHEN n % 40 = 0 THEN 'beta' WHEN n IN (7, 1500, 2999) THEN 'gamma' ELSE 'other' END,
                            CASE WHEN n = 80 THEN now() END
                        FROM generate_series(1, 3000) AS n
                        """
                )
            )
            for (term, matches, limits) in [("alpha", 2_999, [100]), ("beta", 74, [7, 50]), ("gamma", 3, [2, 50])] {
                var expected: [String] = []
                for try await id in try await client.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT id::text FROM \(schema.table("contacts")) WHERE deleted_at IS NULL AND search LIKE '%\(term)%' ORDER BY id"
                    )
                ).decode(String.self) {
                    expected.append(id)
                }
                #expect(expected.count == matches)
                for limit in limits {
                    var seen: [String] = []
                    var cursor: String?
                    repeat {
                        let path = "/api/v1/contacts?q=\(term)&limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
                        let request = Request(head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: path), body: RequestBody(buffer: ByteBuffer()))
                        let page = try await contacts.list(try ContactFilter(request))
                        #expect(page.items.count == limit || page.nextCursor == nil, "only the last page is short")
                        seen += try page.items.map { try Document(text: $0).identity.id.lowercased }
                        cursor = page.nextCursor
                    } while cursor != nil
                    #expect(seen == expected, "'\(term)' in pages of \(limit)")
                }
            }
        }
    }
}
