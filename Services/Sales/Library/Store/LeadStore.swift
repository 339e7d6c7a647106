import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import StaffReplica
import Storage

/// Leads, worked from new to qualified and converted into a deal. Sales never writes the contacts
/// schema: the conversion's event asks the contacts service for the contact (matched by e-mail
/// or phone, or created), whose answer links the lead and its deal to it.
struct LeadStore: ServiceStore {
    let service: ServiceDependencies
    let deals: DealStore

    var leads: String { schema.table("leads") }
    var document: String { "\(schema.quoted).lead_document(l)::text" }
    static let now = DealStore.now

    func get(_ id: UUID) async throws -> Document {
        try await client.document(
            document, from: leads, as: "l", id: id, live: true, orThrow: SalesError.notFound("lead \(id.lowercased)"), logger: logger
        )
    }

    /// Oldest first (or newest first), keyset-paged by creation.
    func list(_ filter: LeadFilter) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("SELECT \(document), ARRAY[\(schema.quoted).ts(l.created_at), l.id::text] FROM \(leads) l WHERE l.deleted_at IS NULL")
        if let status = filter.status { sql.append(" AND l.status = ANY(\(try sql.bind(status.map(\.rawValue)))::text[])") }
        if let source = filter.source { sql.append(" AND l.source = \(try sql.bind(source.rawValue))") }
        if let owner = filter.owner { sql.append(" AND l.owner = \(try sql.bind(owner))") }
        if let campaign = filter.campaign { sql.append(" AND l.campaign_id = \(try sql.bind(campaign))") }
        try sql.appendPage(filter.page, in: .creation("l", descending: filter.order == .newest))
        return try await client.page(sql.query, limit: filter.page.limit, logger: logger)
    }

    func create(_ input: LeadFields) async throws -> Document {
        var fields = try input.validated()
        if let status = fields.status, ![.new, .contacted].contains(status) {
            throw SalesError.invalid("status", "a lead starts as new or contacted; qualify it with POST /api/v1/leads/{id}/qualify")
        }
        fields.status = fields.status ?? .new
        let id = UUID()
        return try await client.transaction(logger: logger) { [fields] connection in
            var fields = fields
            fields.owner = try await deals.staff.owner(fields.owner, on: connection)
            var sql = SQLBuilder()
            let columns = try Self.columns(fields, into: &sql) + [("id", try sql.bind(id))]
            sql.append("""
                INSERT INTO \(leads) AS l (\(columns.map(\.0).joined(separator: ", "))) VALUES (\(columns.map(\.1).joined(separator: ", ")))
                RETURNING \(document)
                """)
            return try await connection.document(
                sql.query, causing: SalesEvents.leadCreated, producer: "sales", aggregateId: id, version: 1, outbox: outbox, logger: logger
            )
        }
    }

    /// A merge patch of the lead's fields; `status` may go back to `new` or on to `contacted`
    /// (which also brings a disqualified lead back). A converted lead is settled.
    func update(_ id: UUID, patch: JSONValue, expectedVersion: Int64) async throws -> Document {
        guard case let .object(members) = patch else { throw SalesError.malformed("the body must be a JSON object (a merge patch)") }
        var check = FieldChecker()
        for name in members.keys.sorted() where LeadFields.serviceSet.contains(name) { check.fail(name, "is set by the service") }
        try check.check(SalesError.invalid)
        return try await change(id, expectedVersion: expectedVersion, event: SalesEvents.leadUpdated) { lead, connection in
            guard lead.status != .converted else { throw Self.settled(id) }
            var read = SQLBuilder()
            read.append("SELECT \(document) FROM \(leads) l WHERE l.id = \(try read.bind(id))")
            let current = try await connection.document(returnedBy: read.query, logger: logger)
            var fields = try Document.writableFields(
                LeadFields.self, of: current, patchedWith: patch, alsoReadOnly: LeadFields.serviceSet, invalid: SalesError.invalid
            ).validated()
            fields.owner = try await deals.staff.owner(patched: fields.owner, stored: current, on: connection)
            if let status = fields.status, status != lead.status, ![.new, .contacted].contains(status) {
                throw SalesError.invalid("status", "a patch sets new or contacted; use /qualify, /disqualify or /convert for the rest")
            }
            var sql = SQLBuilder()
            let columns = try Self.columns(fields, into: &sql)
            let reopened = fields.status != .disqualified ? ", disqualify_reason = NULL" : ""
            sql.append("UPDATE \(leads) SET \(columns.map { "\($0.0) = \($0.1)" }.joined(separator: ", "))\(reopened) WHERE id = \(try sql.bind(id))")
            return sql
        }
    }

    func qualify(_ id: UUID, expectedVersion: Int64) async throws -> Document {
        try await change(id, expectedVersion: expectedVersion, event: SalesEvents.leadQualified) { lead, _ in
            guard [.new, .contacted].contains(lead.status) else {
                throw SalesError.conflict(.leadStatus, "lead \(id.lowercased) is \(lead.status.rawValue); only a new or contacted lead is qualified")
            }
            var sql = SQLBuilder()
            sql.append("UPDATE \(leads) SET status = 'qualified' WHERE id = \(try sql.bind(id))")
            return sql
        }
    }

    func disqualify(_ id: UUID, reason: String?, expectedVersion: Int64) async throws -> Document {
        var check = FieldChecker()
        let reason = check.text(reason, "reason", required: true, maximum: 500)
        try check.check(SalesError.invalid)
        return try await change(id, expectedVersion: expectedVersion, event: SalesEvents.leadDisqualified) { lead, _ in
            guard [.new, .contacted, .qualified].contains(lead.status) else {
                throw SalesError.conflict(.leadStatus, "lead \(id.lowercased) is \(lead.status.rawValue) and cannot be disqualified")
            }
            var sql = SQLBuilder()
            sql.append("UPDATE \(leads) SET status = 'disqualified', disqualify_reason = \(try sql.bind(reason)) WHERE id = \(try sql.bind(id))")
            return sql
        }
    }

    /// A qualified lead becomes a deal (and, through the contacts service, a contact). Converting
    /// a converted lead answers the conversion there is: it converts once.
    func convert(_ id: UUID, _ conversion: LeadConversion, expectedVersion: Int64?) async throws -> (document: Document, converted: Bool) {
        try await client.transaction(logger: logger) { connection in
            let lead = try await lock(id, on: connection)
            if lead.status == .converted { return (try await read(id, on: connection), false) }
            if let expectedVersion, expectedVersion != lead.version {
                throw SalesError.versionMismatch(expected: expectedVersion, current: lead.version)
            }
            guard lead.status == .qualified else {
                throw SalesError.conflict(.leadStatus, "lead \(id.lowercased) is \(lead.status.rawValue); qualify it before converting it")
            }
            let current = try await read(id, on: connection).decode(LeadFields.self)
            var deal = conversion.deal ?? DealFields()
            deal.title = deal.title ?? current.company ?? [current.firstName, current.lastName].compactMap { $0 }.joined(separator: " ")
            deal.owner = deal.owner ?? current.owner
            deal.sourceCampaignId = deal.sourceCampaignId ?? current.campaignId
            deal.leadId = id
            deal.contactId = nil
            deal.accountId = nil
            let created: Document
            do {
                // The lead's owner passes on as it is; another owner the conversion names must be a user.
                var valid = try deal.validated()
                if valid.owner != current.owner { valid.owner = try await deals.staff.owner(valid.owner, on: connection) }
                created = try await deals.insert(valid, on: connection)
            } catch let error as SalesError {
                throw error.prefixingFields("deal.")
            }
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(leads) AS l SET status = 'converted', deal_id = \(try sql.bind(try created.identity.id)),
                    create_account = \(try sql.bind(conversion.createAccount ?? false)), converted_at = \(Self.now),
                    version = version + 1, updated_at = \(Self.now)
                WHERE l.id = \(try sql.bind(id)) RETURNING \(document)
                """)
            let converted = try await connection.document(
                sql.query, causing: SalesEvents.leadConverted, producer: "sales", aggregateId: id, version: lead.version + 1, outbox: outbox, logger: logger
            )
            return (converted, true)
        }
    }

    /// The contacts service's answer to a conversion: the lead, and its deal unless a person has
    /// set them already, name the contact and account.
    func link(_ answer: ContactLeadLink, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(leads) AS l SET contact_id = \(try sql.bind(answer.contactId)), account_id = \(try sql.bind(answer.accountId)),
                version = version + 1, updated_at = \(Self.now)
            WHERE l.id = \(try sql.bind(answer.leadId)) AND l.contact_id IS NULL AND l.deleted_at IS NULL
            RETURNING l.version, \(document)
            """)
        for try await (version, text) in try await connection.query(sql.query, logger: logger).decode((Int64, String).self) {
            try await outbox.append(
                try Document(text: text).event(SalesEvents.leadUpdated, producer: "sales", aggregateId: answer.leadId, version: version),
                on: connection, logger: logger
            )
        }
        guard let dealId = answer.dealId else { return }
        try await deals.link(dealId, contact: answer.contactId, account: answer.accountId, on: connection)
    }

    func delete(_ id: UUID, expectedVersion: Int64?) async throws {
        _ = try await change(id, expectedVersion: expectedVersion, event: SalesEvents.leadDeleted) { _, _ in
            var sql = SQLBuilder()
            sql.append("UPDATE \(leads) SET deleted_at = \(Self.now) WHERE id = \(try sql.bind(id))")
            return sql
        }
    }

    // MARK: Parts

    struct LockedLead {
        var version: Int64
        var status: LeadStatus
    }

    private func lock(_ id: UUID, on connection: PostgresConnection) async throws -> LockedLead {
        var sql = SQLBuilder()
        sql.append("SELECT version, status FROM \(leads) WHERE id = \(try sql.bind(id)) AND deleted_at IS NULL FOR UPDATE")
        for try await (version, status) in try await connection.query(sql.query, logger: logger).decode((Int64, String).self) {
            return LockedLead(version: version, status: LeadStatus(rawValue: status) ?? .new)
        }
        throw SalesError.notFound("lead \(id.lowercased)")
    }

    private func read(_ id: UUID, on connection: PostgresConnection) async throws -> Document {
        var sql = SQLBuilder()
        sql.append("SELECT \(document) FROM \(leads) l WHERE l.id = \(try sql.bind(id))")
        return try await connection.document(returnedBy: sql.query, logger: logger)
    }

    /// Locks the lead, checks the version, runs the update `body` builds, bumps the version and
    /// appends `event`.
    private func change(
        _ id: UUID, expectedVersion: Int64?, event: String,
        _ body: @escaping @Sendable (LockedLead, PostgresConnection) async throws -> SQLBuilder
    ) async throws -> Document {
        try await client.transaction(logger: logger) { connection in
            let lead = try await lock(id, on: connection)
            if let expectedVersion, expectedVersion != lead.version {
                throw SalesError.versionMismatch(expected: expectedVersion, current: lead.version)
            }
            try await connection.query(try await body(lead, connection).query, logger: logger)
            var bump = SQLBuilder()
            bump.append("""
                UPDATE \(leads) AS l SET version = version + 1, updated_at = \(Self.now) WHERE l.id = \(try bump.bind(id)) RETURNING \(document)
                """)
            return try await connection.document(
                bump.query, causing: event, producer: "sales", aggregateId: id, version: lead.version + 1, outbox: outbox, logger: logger
            )
        }
    }

    private static func settled(_ id: UUID) -> SalesError {
        SalesError.conflict(.leadConverted, "lead \(id.lowercased) is converted; change its deal or contact instead")
    }

    private static func columns(_ fields: LeadFields, into sql: inout SQLBuilder) throws -> [(String, String)] {
        [
            ("first_name", try sql.bind(fields.firstName)),
            ("last_name", try sql.bind(fields.lastName)),
            ("company", try sql.bind(fields.company)),
            ("email", try sql.bind(fields.email)),
            ("phone", try sql.bind(fields.phone)),
            ("source", try sql.bind(fields.source?.rawValue)),
            ("campaign_id", try sql.bind(fields.campaignId)),
            ("owner", try sql.bind(fields.owner)),
            ("notes", try sql.bind(fields.notes)),
            ("status", try sql.bind((fields.status ?? .new).rawValue)),
        ]
    }
}
