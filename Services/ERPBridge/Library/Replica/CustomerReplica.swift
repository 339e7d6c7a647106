import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// The bridge's copy of the contacts service's contacts and accounts, from its events: the
/// documents the customer master is built from, and the keys orders' customers are matched by.
/// A change of a customer some source knows is sent to that source (`CustomerMaster`).
struct CustomerReplica: ServiceStore {
    let service: ServiceDependencies
    let master: CustomerMaster

    var handlers: [EventHandler] {
        [ContactEvents.contactCreated, ContactEvents.contactUpdated, ContactEvents.contactDeleted].map { type in
            EventHandler(type: type) { envelope, context in
                let contact = try envelope.payload(as: ContactKeys.self)
                guard contact.id == envelope.aggregateId else {
                    throw PermanentEventError("the contact's id \(contact.id.lowercased) is not the event's aggregate_id")
                }
                let deleted = type == ContactEvents.contactDeleted || contact.deletedAt != nil
                if try await keepContact(contact, document: envelope, version: envelope.aggregateVersion, deleted: deleted, on: context.connection) {
                    try await master.customerChanged(contact.id, cause: envelope, on: context.connection)
                    // An account's contact persons are part of the account's master data.
                    if let account = contact.accountId { try await master.customerChanged(account, cause: envelope, on: context.connection) }
                }
            }
        } + [ContactEvents.accountCreated, ContactEvents.accountUpdated, ContactEvents.accountDeleted].map { type in
            EventHandler(type: type) { envelope, context in
                let account = try envelope.payload(as: AccountKeys.self)
                guard account.id == envelope.aggregateId else {
                    throw PermanentEventError("the account's id \(account.id.lowercased) is not the event's aggregate_id")
                }
                let deleted = type == ContactEvents.accountDeleted || account.deletedAt != nil
                if try await keepAccount(account, document: envelope, version: envelope.aggregateVersion, deleted: deleted, on: context.connection) {
                    try await master.customerChanged(account.id, cause: envelope, on: context.connection)
                }
            }
        } + [
            EventHandler(type: ContactEvents.contactMerged) { envelope, context in
                let merge = try envelope.payload(as: MergedContacts.self)
                var sql = SQLBuilder()
                sql.append("""
                    UPDATE \(schema.table("crm_contacts")) SET deleted = true, merged_into = \(try sql.bind(merge.survivor.id))
                    WHERE id = ANY(\(try sql.bind(merge.mergedIds)))
                    """)
                try await context.connection.query(sql.query, logger: logger)
                var links = SQLBuilder()
                links.append("""
                    UPDATE \(schema.table("customer_links")) SET contact_id = \(try links.bind(merge.survivor.id))
                    WHERE contact_id = ANY(\(try links.bind(merge.mergedIds)))
                    """)
                try await context.connection.query(links.query, logger: logger)
                var orders = SQLBuilder()
                orders.append("""
                    UPDATE \(schema.table("orders")) SET contact_id = \(try orders.bind(merge.survivor.id))
                    WHERE contact_id = ANY(\(try orders.bind(merge.mergedIds)))
                    """)
                try await context.connection.query(orders.query, logger: logger)
            },
        ]
    }

    /// Upserts a contact unless the replica holds its version or a newer one; true when it changed.
    private func keepContact(_ contact: ContactKeys, document envelope: EventEnvelope, version: Int64, deleted: Bool, on connection: PostgresConnection)
        async throws -> Bool
    {
        var sql = SQLBuilder()
        let emails = contact.emails.compactMap { Normalize.email($0.address) }
        let phones = contact.phones.compactMap { Normalize.phone($0.number) }
        sql.append("""
            INSERT INTO \(schema.table("crm_contacts")) AS c (id, version, account_id, email_keys, phone_keys, document, deleted)
            VALUES (\(try sql.bind(contact.id)), \(try sql.bind(version)), \(try sql.bind(contact.accountId)), \(try sql.bind(emails)),
                \(try sql.bind(phones)), \(try sql.bind(Self.dataText(envelope)))::jsonb, \(try sql.bind(deleted)))
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, account_id = EXCLUDED.account_id,
                email_keys = EXCLUDED.email_keys, phone_keys = EXCLUDED.phone_keys, document = EXCLUDED.document, deleted = EXCLUDED.deleted
            WHERE c.version < EXCLUDED.version
            RETURNING true
            """)
        return try await connection.query(sql.query, logger: logger).collect().count > 0
    }

    private func keepAccount(_ account: AccountKeys, document envelope: EventEnvelope, version: Int64, deleted: Bool, on connection: PostgresConnection)
        async throws -> Bool
    {
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(schema.table("crm_accounts")) AS a (id, version, tax_key, document, deleted)
            VALUES (\(try sql.bind(account.id)), \(try sql.bind(version)), \(try sql.bind(account.taxId.flatMap(Normalize.taxId))),
                \(try sql.bind(Self.dataText(envelope)))::jsonb, \(try sql.bind(deleted)))
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, tax_key = EXCLUDED.tax_key, document = EXCLUDED.document,
                deleted = EXCLUDED.deleted
            WHERE a.version < EXCLUDED.version
            RETURNING true
            """)
        return try await connection.query(sql.query, logger: logger).collect().count > 0
    }
}

extension CustomerReplica {
    /// The event's document as JSON text, kept whole.
    static func dataText(_ envelope: EventEnvelope) throws -> String {
        String(decoding: try EventCoding.encoder.encode(envelope.payload(as: JSONValue.self)), as: UTF8.self)
    }
}

/// What the replica reads of a contact document beyond keeping it whole.
struct ContactKeys: Decodable {
    var id: UUID
    var accountId: UUID?
    var emails: [Email]
    var phones: [Phone]
    var deletedAt: String?

    struct Email: Decodable { var address: String }
    struct Phone: Decodable { var number: String }

    enum CodingKeys: String, CodingKey {
        case id, emails, phones
        case accountId = "account_id"
        case deletedAt = "deleted_at"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        accountId = try container.decodeIfPresent(UUID.self, forKey: .accountId)
        emails = try container.decodeIfPresent([Email].self, forKey: .emails) ?? []
        phones = try container.decodeIfPresent([Phone].self, forKey: .phones) ?? []
        deletedAt = try container.decodeIfPresent(String.self, forKey: .deletedAt)
    }
}

struct AccountKeys: Decodable {
    var id: UUID
    var taxId: String?
    var deletedAt: String?

    enum CodingKeys: String, CodingKey {
        case id
        case taxId = "tax_id"
        case deletedAt = "deleted_at"
    }
}

struct MergedContacts: Decodable {
    struct Survivor: Decodable { var id: UUID }
    var survivor: Survivor
    var mergedIds: [UUID]

    enum CodingKeys: String, CodingKey {
        case survivor
        case mergedIds = "merged_ids"
    }
}
