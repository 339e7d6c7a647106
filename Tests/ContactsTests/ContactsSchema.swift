@testable import ContactsService
import Messaging
import PostgresNIO
import ServiceKit
import Storage
import TestSupport

/// A contacts schema of the test's own (`prefix` and a unique suffix), migrated as the service
/// migrates its own, and dropped once the body has passed.
func withContactsSchema(_ prefix: String, _ body: (SchemaName, PostgresClient) async throws -> Void) async throws {
    let schema = try SchemaName(TestEnvironment.uniqueName(prefix))
    try await TestEnvironment.withClient { client in
        try await Migrator(schema: schema, sql: CommonSQL.schema(of: ContactsService.definition))
            .migrate(client, logger: TestEnvironment.logger)
        try await body(schema, client)
        try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"))
    }
}
