@testable import ContactsService
import Foundation
import Messaging
import PostgresNIO
import ServiceKit
import Storage
import Testing
import TestSupport

/// The API's create runs in the function `create_contact`, which lists the contact's columns in
/// SQL; an import batch inserts with `ContactRow.fieldColumns`. A field added to one and not the
/// other would be silently dropped by one path.
@Suite("The create function and an import batch store the same contact", .timeLimit(.minutes(2)))
struct CreateStatementTests {
    @Test("a contact with every field set is stored alike by create_contact and by an import batch")
    func sameColumns() async throws {
        try await withContactsSchema("contacts_create") { schema, client in
            let store = ContactStore(service: .testing(schema, client))
            let account = UUID()
            for statement in [
                "INSERT INTO \(schema.table("accounts")) (id, name) VALUES ('\(account.lowercased)', 'Acme Ltd')",
                "INSERT INTO \(schema.table("custom_field_definitions")) (id, entity, name, label, type) VALUES (gen_random_uuid(), 'contact', 'tier', 'Tier', 'string')",
                "UPDATE \(schema.table("custom_field_generation")) SET generation = generation + 1",
            ] {
                try await client.query(PostgresQuery(unsafeSQL: statement))
            }
            let grace = try await StaffFixture.user(ContactsService.definition, .testing(schema, client), name: "Grace")
            let body = """
                {"first_name": "Ada", "last_name": "Lovelace", "emails": [{"address": "Ada@Example.com"}],
                 "phones": [{"number": "+44 20 7946 0018"}], "position": "Analyst", "account_id": "\(account.lowercased)",
                 "company": "Acme Ltd", "address": {"street": "1 Main St", "city": "London", "region": "LND", "country": "GB"},
                 "preferred_language": "en", "lead_source": "referral", "purchase_purpose": "resale",
                 "buying_priorities": ["quality", "price"], "payment_method": "invoice", "customer_type": "customer",
                 "consent": {"email": {"granted": true, "at": "2026-01-02T03:04:05.000Z"}}, "tags": ["vip"],
                 "owner": "\(grace)", "custom_fields": {"tier": "gold"}}
                """
            let fields = try APICoding.decoder.decode(ContactFields.self, from: Data(body.utf8))
            let created = try await store.create(fields, allowDuplicate: true)

            let definitions = try await client.withConnection { connection in
                try await CustomFieldStore.definitions(schema: schema, on: connection, logger: TestEnvironment.logger)
            }
            let valid = try fields.validated(definitions: definitions, previous: nil, now: Date())
            let imported = try await client.withTransaction(logger: TestEnvironment.logger) { connection in
                try await store.insertWithEvents([valid], documents: true, on: connection)
            }
            #expect(imported.count == 1)

            func stored(_ document: Document) throws -> [String: JSONValue] {
                guard case var .object(members) = try document.json else { throw UnexpectedAnswer(statement: "test", answer: document.text) }
                for generated in ["id", "created_at", "updated_at"] { members[generated] = nil }
                return members
            }
            let viaCreate = try stored(created)
            #expect(try viaCreate == stored(imported.documents[0]))
            #expect(viaCreate["custom_fields"] == .object(["tier": .string("gold")]))
            #expect(viaCreate["account_id"] == .string(account.lowercased))
            #expect(viaCreate["owner"] == .string(grace))
        }
    }
}
