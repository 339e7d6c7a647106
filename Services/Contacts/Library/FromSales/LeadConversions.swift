import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// The contacts side of a lead's conversion in sales: `sales.lead.converted` asks for the
/// contact the lead is. A live contact with the lead's e-mail or phone is it; otherwise one is
/// created from the lead. With `create_account`, the lead's company becomes an account (an
/// existing one of that name is reused) that a contact without one joins. The answer,
/// `contacts.contact.lead_linked`, commits with all of it; the inbox makes a redelivery a no-op.
struct LeadConversions: ServiceStore {
    let service: ServiceDependencies
    let contacts: ContactStore

    var handler: EventHandler {
        EventHandler(type: SalesEvents.leadConverted) { envelope, context in
            let lead = try envelope.payload(as: ConvertedLead.self)
            try await answer(lead, cause: envelope, on: context.connection)
        }
    }

    func answer(_ lead: ConvertedLead, cause: EventEnvelope, on connection: PostgresConnection) async throws {
        var fields = ContactFields()
        fields.firstName = lead.firstName
        fields.lastName = lead.lastName
        fields.company = lead.company
        fields.emails = lead.email.map { [EmailAddress(address: $0, primary: true)] }
        fields.phones = lead.phone.map { [PhoneNumber(number: $0, primary: true)] }
        fields.leadSource = lead.source.flatMap(LeadSource.init(rawValue:))
        fields.owner = lead.owner
        fields.customerType = .prospect
        var valid: ValidContact
        do {
            // Custom-field definitions are not applied: a lead carries no custom fields, and a
            // required one would leave the conversion without its contact.
            valid = try fields.validated(definitions: [], previous: nil, now: Date())
        } catch {
            throw PermanentEventError("lead \(lead.id.lowercased) cannot become a contact: \(error)")
        }

        let holders = try await contacts.claimHolders(emailKeys: valid.emailKeys, phoneKeys: valid.phoneKeys, on: connection)
        let link: ContactLeadLink
        if let holder = holders.first {
            var (version, accountId) = try await state(of: holder.id, on: connection)
            if lead.createAccount, accountId == nil, let company = lead.company {
                let account = try await account(named: company, on: connection)
                version = try await join(holder.id, to: account, on: connection)
                accountId = account.id
            }
            link = ContactLeadLink(leadId: lead.id, dealId: lead.dealId, contactId: holder.id, accountId: accountId, contactCreated: false)
            try await publish(link, version: version, cause: cause, on: connection)
        } else {
            if lead.createAccount, let company = lead.company {
                let account = try await account(named: company, on: connection)
                valid.fields.accountId = account.id
                valid.fields.company = account.name
            }
            let created = try await contacts.insertWithEvents([valid], documents: true, on: connection).documents[0]
            link = ContactLeadLink(
                leadId: lead.id, dealId: lead.dealId, contactId: try created.identity.id, accountId: valid.fields.accountId, contactCreated: true
            )
            try await publish(link, version: 1, cause: cause, on: connection)
        }
        logger.info("lead linked", metadata: ["lead": "\(lead.id.lowercased)", "contact": "\(link.contactId.lowercased)", "created": "\(link.contactCreated)"])
    }

    private func state(of id: UUID, on connection: PostgresConnection) async throws -> (version: Int64, accountId: UUID?) {
        var sql = SQLBuilder()
        sql.append("SELECT version, account_id FROM \(schema.table("contacts")) WHERE id = \(try sql.bind(id)) FOR UPDATE")
        for try await row in try await connection.query(sql.query, logger: logger).decode((Int64, UUID?).self) { return row }
        throw UnexpectedAnswer(statement: "contact state", answer: "no contact \(id.lowercased)")
    }

    /// The live account of that name (case aside), or a new one; the name's lock keeps two
    /// conversions of one company from making two.
    private func account(named name: String, on connection: PostgresConnection) async throws -> (id: UUID, name: String) {
        var lock = SQLBuilder()
        lock.append("SELECT pg_advisory_xact_lock(hashtext('contacts.account-name:' || lower(\(try lock.bind(name)))))")
        try await connection.query(lock.query, logger: logger)
        var find = SQLBuilder()
        find.append("""
            SELECT id, name FROM \(schema.table("accounts")) WHERE lower(name) = lower(\(try find.bind(name))) AND deleted_at IS NULL
            ORDER BY created_at, id LIMIT 1
            """)
        for try await row in try await connection.query(find.query, logger: logger).decode((UUID, String).self) { return row }
        let id = UUID()
        var insert = SQLBuilder()
        insert.append("""
            INSERT INTO \(schema.table("accounts")) AS a (id, name) VALUES (\(try insert.bind(id)), \(try insert.bind(name)))
            RETURNING \(schema.quoted).account_document(a)::text
            """)
        try await connection.document(
            insert.query, causing: ContactEvents.accountCreated, producer: "contacts", aggregateId: id, version: 1, outbox: outbox, logger: logger
        )
        return (id, name)
    }

    /// A contact without an account joins it (taking its name as company); returns its new version.
    private func join(_ contact: UUID, to account: (id: UUID, name: String), on connection: PostgresConnection) async throws -> Int64 {
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(schema.table("contacts")) AS c SET account_id = \(try sql.bind(account.id)), company = \(try sql.bind(account.name)),
                version = version + 1, updated_at = date_trunc('milliseconds', now())
            WHERE c.id = \(try sql.bind(contact)) RETURNING \(schema.quoted).contact_document(c)::text
            """)
        let updated = try await connection.document(returnedBy: sql.query, logger: logger)
        let version = try updated.identity.version ?? 1
        try await outbox.append(try updated.event(ContactEvents.contactUpdated, aggregateId: contact, version: version), on: connection, logger: logger)
        return version
    }

    private func publish(_ link: ContactLeadLink, version: Int64, cause: EventEnvelope, on connection: PostgresConnection) async throws {
        let event = try EventEnvelope(
            type: ContactEvents.contactLeadLinked, producer: "contacts", aggregateId: link.contactId, aggregateVersion: version,
            correlationId: cause.correlationId, causationId: cause.id, payload: link
        )
        try await outbox.append(event, on: connection, logger: logger)
    }
}
