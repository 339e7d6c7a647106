import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// What the gateway's customer overview needs of sales for one contact, in one statement: its
/// deals (the oldest `deals`, and whether there are more) and its open activities by due time.
struct CustomerSales: Sendable {
    let schema: SchemaName
    let client: PostgresClient
    let logger: Logger

    static let deals = 200
    static let activities = 50

    func summary(of contactId: UUID) async throws -> String {
        var sql = SQLBuilder()
        let contact = try sql.bind(contactId)
        sql.append("""
            WITH d AS (
                SELECT \(schema.quoted).deal_document(d) AS document, d.created_at, d.id FROM \(schema.table("deals")) d
                WHERE d.contact_id = \(contact) AND d.deleted_at IS NULL ORDER BY d.created_at, d.id LIMIT \(Self.deals + 1))
            SELECT jsonb_build_object(
                'deals', coalesce((SELECT jsonb_agg(x.document ORDER BY x.created_at, x.id)
                    FROM (SELECT * FROM d ORDER BY d.created_at, d.id LIMIT \(Self.deals)) x), '[]'),
                'truncated', (SELECT count(*) > \(Self.deals) FROM d),
                'activities', coalesce((SELECT jsonb_agg(x.document ORDER BY x.due_at, x.id)
                    FROM (SELECT \(schema.quoted).activity_document(a) AS document, a.due_at, a.id FROM \(schema.table("activities")) a
                        WHERE a.contact_id = \(contact) AND a.deleted_at IS NULL AND NOT a.done ORDER BY a.due_at, a.id
                        LIMIT \(Self.activities)) x), '[]'))::text
            """)
        return try await client.texts(sql.query, logger: logger)[0]
    }
}
