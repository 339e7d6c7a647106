import Contracts
import Foundation

public struct EmailAddress: Codable, Sendable, Hashable {
    public var address: String
    public var label: String?
    public var primary: Bool

    public init(address: String, label: String? = nil, primary: Bool = false) {
        self.address = address
        self.label = label
        self.primary = primary
    }

    enum CodingKeys: String, CodingKey { case address, label, primary }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        address = try container.decode(String.self, forKey: .address)
        label = try container.decodeIfPresent(String.self, forKey: .label)
        primary = try container.decodeIfPresent(Bool.self, forKey: .primary) ?? false
    }
}

public struct PhoneNumber: Codable, Sendable, Hashable {
    public var number: String
    public var label: String?
    public var primary: Bool

    public init(number: String, label: String? = nil, primary: Bool = false) {
        self.number = number
        self.label = label
        self.primary = primary
    }

    enum CodingKeys: String, CodingKey { case number, label, primary }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        number = try container.decode(String.self, forKey: .number)
        label = try container.decodeIfPresent(String.self, forKey: .label)
        primary = try container.decodeIfPresent(Bool.self, forKey: .primary) ?? false
    }
}

/// Whether the contact agreed to be contacted on a channel, and since when.
public struct ConsentRecord: Codable, Sendable, Hashable {
    public var granted: Bool
    /// When it was given or withdrawn; the time of the request when the client does not say.
    public var at: Date?

    public init(granted: Bool, at: Date? = nil) {
        self.granted = granted
        self.at = at
    }
}

public struct Consent: Codable, Sendable, Hashable {
    public var email: ConsentRecord?
    public var phone: ConsentRecord?
    public var sms: ConsentRecord?

    public init(email: ConsentRecord? = nil, phone: ConsentRecord? = nil, sms: ConsentRecord? = nil) {
        self.email = email
        self.phone = phone
        self.sms = sms
    }
}

/// What a client writes about a person: the body of a create, and the result of applying a
/// merge patch to the current contact on update.
public struct ContactFields: Codable, Sendable, Hashable {
    public var firstName: String?
    public var lastName: String?
    public var emails: [EmailAddress]?
    public var phones: [PhoneNumber]?
    public var position: String?
    public var accountId: UUID?
    /// Free text for a contact without an account; the account's name when it has one.
    public var company: String?
    public var address: PostalAddress?
    public var preferredLanguage: String?
    public var leadSource: LeadSource?
    public var purchasePurpose: PurchasePurpose?
    public var buyingPriorities: [BuyingPriority]?
    public var paymentMethod: PaymentMethod?
    public var customerType: CustomerType?
    public var consent: Consent?
    public var tags: [String]?
    public var owner: String?
    public var customFields: [String: CustomFieldValue]?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case emails, phones, position, company, address, consent, tags, owner
        case firstName = "first_name"
        case lastName = "last_name"
        case accountId = "account_id"
        case preferredLanguage = "preferred_language"
        case leadSource = "lead_source"
        case purchasePurpose = "purchase_purpose"
        case buyingPriorities = "buying_priorities"
        case paymentMethod = "payment_method"
        case customerType = "customer_type"
        case customFields = "custom_fields"
    }
}

/// A contact as the API returns it and the events carry it.
public struct Contact: Codable, Sendable, Hashable {
    public var id: UUID
    public var fields: ContactFields
    public var version: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var deletedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, version
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case deletedAt = "deleted_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        version = try container.decode(Int64.self, forKey: .version)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        updatedAt = try container.decode(Date.self, forKey: .updatedAt)
        deletedAt = try container.decodeIfPresent(Date.self, forKey: .deletedAt)
        fields = try ContactFields(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(version, forKey: .version)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(deletedAt, forKey: .deletedAt)
        try fields.encode(to: encoder)
    }
}
