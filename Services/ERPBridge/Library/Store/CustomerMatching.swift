import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// The CRM customer an order's customer is, and how it was found.
struct CustomerMatch: Sendable, Equatable {
    var contactId: UUID?
    var accountId: UUID?
    var matchedBy: String
}

/// Finds the CRM customer of an order's customer, in the documented order: the CRM id given; the
/// source's customer number seen before; the account with that tax id; the contact with that
/// e-mail, then that phone; otherwise a new prospect the contacts service makes (its id chosen
/// here, so the order names it at once). The source's number is linked to what was found. A lock
/// on the source's number makes orders of one new customer that arrive together wait for each
/// other, so the second finds the first one's link instead of asking for a second prospect.
struct CustomerMatching: ServiceStore {
    let service: ServiceDependencies
    let master: CustomerMaster

    /// `unlinked`: the caller holds the number's lock and found it unlinked (`OrderWriter` reads
    /// a batch's links at once), so neither is done again.
    func match(_ customer: InboundOrder.Customer, source: String, unlinked: Bool = false, correlation: UUID, on connection: PostgresConnection)
        async throws -> Result<CustomerMatch, Rejection>
    {
        if !unlinked { try await lock(source: source, erpId: customer.erpId, on: connection) }

        if let account = customer.crmAccountId {
            guard try await exists(account, in: "crm_accounts", on: connection) else {
                return .failure(Rejection([FieldError("customer.crm_account_id", "names no account the CRM has")]))
            }
            return .success(try await link(CustomerMatch(accountId: account, matchedBy: "crm_id"), source: source, erpId: customer.erpId, correlation: correlation, on: connection))
        }
        if let contact = customer.crmContactId {
            guard let current = try await liveContact(contact, on: connection) else {
                return .failure(Rejection([FieldError("customer.crm_contact_id", "names no contact the CRM has")]))
            }
            return .success(try await link(CustomerMatch(contactId: current, matchedBy: "crm_id"), source: source, erpId: customer.erpId, correlation: correlation, on: connection))
        }
        if !unlinked, let known = try await linked(source: source, erpId: customer.erpId, on: connection) {
            return .success(CustomerMatch(contactId: known.contactId, accountId: known.accountId, matchedBy: "erp_id"))
        }
        if let key = customer.taxId.flatMap(Normalize.taxId), let account = try await first(
            "SELECT id FROM \(schema.table("crm_accounts")) WHERE tax_key = $1 AND NOT deleted ORDER BY id LIMIT 1", key, on: connection
        ) {
            return .success(try await link(CustomerMatch(accountId: account, matchedBy: "tax_id"), source: source, erpId: customer.erpId, correlation: correlation, on: connection))
        }
        if let key = customer.email.flatMap(Normalize.email), let contact = try await first(
            "SELECT id FROM \(schema.table("crm_contacts")) WHERE email_keys @> ARRAY[$1] AND NOT deleted ORDER BY id LIMIT 1", key, on: connection
        ) {
            return .success(try await link(CustomerMatch(contactId: contact, matchedBy: "email"), source: source, erpId: customer.erpId, correlation: correlation, on: connection))
        }
        if let key = customer.phone.flatMap(Normalize.phone), let contact = try await first(
            "SELECT id FROM \(schema.table("crm_contacts")) WHERE phone_keys @> ARRAY[$1] AND NOT deleted ORDER BY id LIMIT 1", key, on: connection
        ) {
            return .success(try await link(CustomerMatch(contactId: contact, matchedBy: "phone"), source: source, erpId: customer.erpId, correlation: correlation, on: connection))
        }
        return .success(try await requestProspect(customer, source: source, correlation: correlation, on: connection))
    }

    /// Holds a source's customer number until the transaction ends: everything that links it
    /// (an order, the ERP's customer_ack, contacts' answer to a prospect request) takes this lock
    /// first, so two of them never link one number at once.
    func lock(source: String, erpId: String, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("SELECT pg_advisory_xact_lock(hashtext(\(try sql.bind(Self.lockKey(source: source, erpId: erpId)))))")
        try await connection.query(sql.query, logger: logger)
    }

    /// The name of that lock, for a batch that takes many at once.
    static func lockKey(source: String, erpId: String) -> String { "erp.customer:\(source):\(erpId)" }

    /// Links the source's number to `match`'s customer; a new or changed link is announced
    /// (`erp.customer.linked`) and the source is sent the customer's master data.
    func link(_ match: CustomerMatch, source: String, erpId: String, pending: Bool = false, correlation: UUID, on connection: PostgresConnection)
        async throws -> CustomerMatch
    {
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(schema.table("customer_links")) AS l (source, erp_id, contact_id, account_id, matched_by, pending)
            VALUES (\(try sql.bind(source)), \(try sql.bind(erpId)), \(try sql.bind(match.contactId)), \(try sql.bind(match.accountId)),
                \(try sql.bind(match.matchedBy)), \(try sql.bind(pending)))
            ON CONFLICT (source, erp_id) DO UPDATE SET contact_id = EXCLUDED.contact_id, account_id = EXCLUDED.account_id,
                matched_by = EXCLUDED.matched_by, pending = EXCLUDED.pending, linked_at = now()
            WHERE (l.contact_id, l.account_id, l.pending) IS DISTINCT FROM (EXCLUDED.contact_id, EXCLUDED.account_id, EXCLUDED.pending)
            RETURNING 1
            """)
        let changed = try await connection.query(sql.query, logger: logger).collect().count > 0
        if changed, !pending {
            let link = ERPCustomerLink(source: source, erpId: erpId, contactId: match.contactId, accountId: match.accountId, matchedBy: match.matchedBy)
            try await outbox.append(
                try EventEnvelope(
                    type: ERPEvents.customerLinked, producer: ERPEvents.producer, aggregateId: link.customerId ?? UUID(), aggregateVersion: 0,
                    correlationId: correlation, payload: link
                ),
                on: connection, logger: logger
            )
            try await master.send(source: source, erpId: erpId, correlation: correlation, on: connection)
        }
        return match
    }

    /// A customer nobody knows: linked at once to the id it will have, made by the contacts
    /// service from `erp.customer.prospect_requested` (a company, with a tax id, becomes an account).
    private func requestProspect(_ customer: InboundOrder.Customer, source: String, correlation: UUID, on connection: PostgresConnection)
        async throws -> CustomerMatch
    {
        let request = ProspectRequest(
            id: UUID(), source: source, erpId: customer.erpId, name: customer.name, taxId: customer.taxId, email: customer.email,
            phone: customer.phone
        )
        let match = request.isCompany
            ? CustomerMatch(accountId: request.id, matchedBy: "created") : CustomerMatch(contactId: request.id, matchedBy: "created")
        _ = try await link(match, source: source, erpId: customer.erpId, pending: true, correlation: correlation, on: connection)
        try await outbox.append(
            try EventEnvelope(
                type: ERPEvents.prospectRequested, producer: ERPEvents.producer, aggregateId: request.id, aggregateVersion: 0,
                correlationId: correlation, payload: request
            ),
            on: connection, logger: logger
        )
        logger.info("prospect requested", metadata: ["source": "\(source)", "erp_id": "\(customer.erpId)", "id": "\(request.id.lowercased)"])
        return match
    }

    func linked(source: String, erpId: String, on connection: PostgresConnection) async throws -> (contactId: UUID?, accountId: UUID?)? {
        var sql = SQLBuilder()
        sql.append("""
            SELECT contact_id, account_id FROM \(schema.table("customer_links"))
            WHERE source = \(try sql.bind(source)) AND erp_id = \(try sql.bind(erpId))
            """)
        for try await row in try await connection.query(sql.query, logger: logger).decode((UUID?, UUID?).self) { return row }
        return nil
    }

    private func exists(_ id: UUID, in table: String, on connection: PostgresConnection) async throws -> Bool {
        try await first("SELECT id FROM \(schema.table(table)) WHERE id = $1::uuid AND NOT deleted", id.lowercased, on: connection) != nil
    }

    /// The contact, or the survivor it was merged into, when live.
    private func liveContact(_ id: UUID, on connection: PostgresConnection) async throws -> UUID? {
        try await first(
            """
            SELECT coalesce(s.id, c.id) FROM \(schema.table("crm_contacts")) c
            LEFT JOIN \(schema.table("crm_contacts")) s ON s.id = c.merged_into AND NOT s.deleted
            WHERE c.id = $1::uuid AND (NOT c.deleted OR s.id IS NOT NULL)
            """, id.lowercased, on: connection
        )
    }

    private func first(_ statement: String, _ value: String, on connection: PostgresConnection) async throws -> UUID? {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: statement, binds: try .of(value)), logger: logger)
        for try await id in rows.decode(UUID.self) { return id }
        return nil
    }
}
