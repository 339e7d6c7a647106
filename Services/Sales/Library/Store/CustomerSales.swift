import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// What the gateway's customer overview needs of sales for one contact, in the overview's own
/// shape so the gateway passes it on without reading it: the deals (the oldest 200, split into
/// open and closed, with `truncated` when there are more), the open and won amounts per currency
/// over all of them, and the open activities by due time (`customer_sales`, SQL/functions/12_customer_sales.sql).
struct CustomerSales: ServiceStore {
    let service: ServiceDependencies

    func summary(of contactId: UUID) async throws -> String {
        var sql = SQLBuilder()
        sql.append("SELECT \(schema.quoted).customer_sales(\(try sql.bind(contactId)))")
        return try await client.texts(sql.query, logger: logger)[0]
    }
}
