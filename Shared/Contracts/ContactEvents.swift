import Foundation

/// The event types the contacts service publishes (`Services/Contacts/asyncapi.yaml`). Each
/// carries the full current document, so consumers keep replicas without calling back.
public enum ContactEvents {
    public static let contactCreated = "contacts.contact.created"
    public static let contactUpdated = "contacts.contact.updated"
    /// `{"survivor": <contact>, "merged_ids": [...]}`.
    public static let contactMerged = "contacts.contact.merged"
    public static let contactDeleted = "contacts.contact.deleted"
    public static let accountCreated = "contacts.account.created"
    public static let accountUpdated = "contacts.account.updated"
    public static let accountDeleted = "contacts.account.deleted"
    public static let interactionLogged = "contacts.interaction.logged"
    /// The answer to `sales.lead.converted`: the contact the lead is (matched by e-mail or phone, or
    /// created), and the account when one was asked for. Data: `ContactLeadLink`.
    public static let contactLeadLinked = "contacts.contact.lead_linked"
    /// The answer to `erp.customer.prospect_requested`: the customer made for an ERP's customer
    /// number (a contact, or with a tax id an account), or the one found with its tax id, e-mail or
    /// phone. Data: `ERPCustomerLink` with `requested_id`.
    public static let customerERPLinked = "contacts.customer.erp_linked"

    /// Every type above: the channels of its AsyncAPI file (ContractsTests holds them equal).
    public static let published = [
        contactCreated, contactUpdated, contactMerged, contactDeleted, accountCreated, accountUpdated, accountDeleted,
        interactionLogged, contactLeadLinked, customerERPLinked,
    ]
}

/// The data of `contacts.contact.lead_linked`.
public struct ContactLeadLink: Codable, Sendable, Hashable {
    public var leadId: UUID
    public var dealId: UUID?
    public var contactId: UUID
    public var accountId: UUID?
    /// True when the contact was created for the lead, false when an existing one matched.
    public var contactCreated: Bool

    public init(leadId: UUID, dealId: UUID?, contactId: UUID, accountId: UUID?, contactCreated: Bool) {
        self.leadId = leadId
        self.dealId = dealId
        self.contactId = contactId
        self.accountId = accountId
        self.contactCreated = contactCreated
    }

    enum CodingKeys: String, CodingKey {
        case leadId = "lead_id"
        case dealId = "deal_id"
        case contactId = "contact_id"
        case accountId = "account_id"
        case contactCreated = "contact_created"
    }

    /// Ids in the wire form every other event uses: lower case.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(leadId.uuidString.lowercased(), forKey: .leadId)
        try container.encode(dealId?.uuidString.lowercased(), forKey: .dealId)
        try container.encode(contactId.uuidString.lowercased(), forKey: .contactId)
        try container.encode(accountId?.uuidString.lowercased(), forKey: .accountId)
        try container.encode(contactCreated, forKey: .contactCreated)
    }
}

/// What another service reads of a contact from its events to keep a replica (each event's data
/// is the whole contact document; readers ignore the members they do not need).
public struct ContactSnapshot: Decodable, Sendable, Hashable {
    public var id: UUID
    public var firstName: String?
    public var lastName: String?
    public var accountId: UUID?
    public var company: String?
    public var address: Address?
    public var customerType: String?
    public var leadSource: String?
    public var version: Int64
    public var deletedAt: String?

    public struct Address: Decodable, Sendable, Hashable {
        public var region: String?
        public var country: String?
    }

    /// First and last name, as a list shows them.
    public var name: String {
        [firstName, lastName].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    enum CodingKeys: String, CodingKey {
        case id, company, address, version
        case firstName = "first_name"
        case lastName = "last_name"
        case accountId = "account_id"
        case customerType = "customer_type"
        case leadSource = "lead_source"
        case deletedAt = "deleted_at"
    }
}

/// The data of `contacts.contact.merged`.
public struct ContactMerge: Decodable, Sendable, Hashable {
    public var survivor: ContactSnapshot
    public var mergedIds: [UUID]

    enum CodingKeys: String, CodingKey {
        case survivor
        case mergedIds = "merged_ids"
    }
}
