import ContactsService
import Foundation
import GatewayService
import PostgresNIO
import SalesService
import ServiceKit
import Storage
import Testing
import TestSupport

/// Each service's SQL, run on an empty schema as on a new installation: migrations without the
/// functions they once defined, then the function files, in order.
@Suite("A service's SQL builds a new schema", .timeLimit(.minutes(2)))
struct ServiceSchemaTests {
    static let definitions = [ContactsService.definition, SalesService.definition, GatewayService.definition]

    @Test("migrations and functions apply to an empty schema, and every function is there", arguments: definitions.map(\.name))
    func freshSchema(_ name: String) async throws {
        let definition = try #require(Self.definitions.first { $0.name == name })
        try await TestEnvironment.withClient { client in
            let schema = try SchemaName(TestEnvironment.uniqueName(definition.name))
            let sql = CommonSQL.schema(of: definition)
            let applied = try await Migrator(schema: schema, sql: sql).migrate(client, logger: TestEnvironment.logger)
            #expect(applied.count == sql.migrations.count)
            let present = try await client.query(PostgresQuery(unsafeSQL: """
                SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '\(schema.rawValue)'
                """)).decode(String.self).reduce(into: Set<String>()) { $0.insert($1) }
            #expect(Set(sql.functions.map(\.name)).isSubset(of: present), "missing: \(Set(sql.functions.map(\.name)).subtracting(present))")
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema.quoted) CASCADE"))
        }
    }
}
