import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// Every contact with a customer; a contact's timeline is its interactions, newest first.
struct InteractionStore: ServiceStore {
    let service: ServiceDependencies
    let contacts: ContactStore

    var interactions: String { schema.table("interactions") }
    var document: String { "\(schema.quoted).interaction_document(i)::text" }

    /// Logged against the contact, or the survivor of a merge it went into.
    func log(_ input: InteractionFields, contactId: UUID) async throws -> Document {
        var check = FieldChecker()
        var valid = input
        valid.subject = check.text(input.subject, "subject", maximum: 500)
        valid.notes = check.text(input.notes, "notes", maximum: 20_000)
        valid.outcome = check.text(input.outcome, "outcome")
        valid.recordedBy = check.text(input.recordedBy, "recorded_by")
        try check.check(ContactsError.invalid)
        return try await client.transaction(logger: logger) { [valid] connection in
            try await record(valid, contactId: contactId, on: connection)
        }
    }

    /// Inserts a checked interaction with its event in the caller's transaction.
    func record(_ input: InteractionFields, contactId: UUID, on connection: PostgresConnection) async throws -> Document {
        // Locked, so a merge running meanwhile finishes first and the interaction goes to its survivor.
        let contact = try await contacts.resolve(contactId, on: connection, lock: true).document.decode(Contact.self)
        let id = UUID()
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(interactions) AS i (id, contact_id, channel, direction, occurred_at, subject, notes, outcome,
                recorded_by, deal_id, ticket_id, order_id, campaign_id)
            VALUES (\(try sql.bind(id)), \(try sql.bind(contact.id)), \(try sql.bind(input.channel.rawValue)),
                \(try sql.bind(input.direction.rawValue)),
                date_trunc('milliseconds', coalesce(\(try sql.bind(input.occurredAt))::timestamptz, now())),
                \(try sql.bind(input.subject)), \(try sql.bind(input.notes)), \(try sql.bind(input.outcome)), \(try sql.bind(input.recordedBy)),
                \(try sql.bind(input.dealId)), \(try sql.bind(input.ticketId)), \(try sql.bind(input.orderId)),
                \(try sql.bind(input.campaignId)))
            RETURNING \(document)
            """)
        return try await connection.document(
            sql.query, causing: ContactEvents.interactionLogged, producer: "contacts", aggregateId: id, version: 1, outbox: outbox, logger: logger
        )
    }

    /// What the gateway's customer overview needs of contacts, in the overview's own shape: the
    /// contact (or the survivor of a merge it went into, whose id comes back as `survivor`), its
    /// account, and its latest `limit` interactions (`customer_summary`, SQL/functions/03_customer_summary.sql).
    func summary(of contactId: UUID, limit: Int) async throws -> (text: String, survivor: UUID) {
        var sql = SQLBuilder()
        sql.append("""
            SELECT summary, survivor::text FROM \(schema.quoted).customer_summary(\(try sql.bind(contactId)), \(try sql.bind(Int32(limit))))
            """)
        let statement = sql.query
        let found = try await client.read(logger: logger) { [logger] connection -> (String, UUID)? in
            for try await (text, id) in try await connection.query(statement, logger: logger).decode((String, String).self) {
                if let survivor = UUID(uuidString: id) { return (text, survivor) }
            }
            return nil
        }
        guard let found else { throw ContactsError.notFound("contact \(contactId.lowercased)") }
        return found
    }

    /// Newest first, keyset-paged on (occurred_at, id) descending.
    func timeline(contactId: UUID, channel: Channel?, page: PageRequest) async throws -> RawPage {
        let contact = try await contacts.get(contactId).document.decode(Contact.self)
        var sql = SQLBuilder()
        sql.append("""
            SELECT \(document), ARRAY[to_char(i.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), i.id::text]
            FROM \(interactions) i WHERE i.contact_id = \(try sql.bind(contact.id))
            """)
        if let channel { sql.append(" AND i.channel = \(try sql.bind(channel.rawValue))") }
        try sql.appendPage(page, in: Keyset([("i.occurred_at", "::timestamptz"), ("i.id", "::uuid")], descending: true))
        return try await client.page(sql.query, limit: page.limit, logger: logger)
    }

    /// What one person recorded, newest first, each with its contact's name: their recent work.
    func recorded(by who: String, page: PageRequest) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("""
            SELECT (\(schema.quoted).interaction_document(i)::jsonb
                    || jsonb_build_object('contact_name', nullif(concat_ws(' ', c.first_name, c.last_name), '')))::text,
                ARRAY[to_char(i.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), i.id::text]
            FROM \(interactions) i JOIN \(schema.table("contacts")) c ON c.id = i.contact_id
            WHERE i.recorded_by = \(try sql.bind(who))
            """)
        try sql.appendPage(page, in: Keyset([("i.occurred_at", "::timestamptz"), ("i.id", "::uuid")], descending: true))
        return try await client.page(sql.query, limit: page.limit, logger: logger)
    }
}
