import Foundation

/// What a client writes about a company.
public struct AccountFields: Codable, Sendable, Hashable {
    public var name: String?
    public var legalName: String?
    public var taxId: String?
    public var industry: String?
    public var sizeBand: SizeBand?
    public var website: String?
    public var address: PostalAddress?
    public var parentAccountId: UUID?
    public var owner: String?
    public var tags: [String]?
    public var customFields: [String: CustomFieldValue]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, industry, website, address, owner, tags
        case legalName = "legal_name"
        case taxId = "tax_id"
        case sizeBand = "size_band"
        case parentAccountId = "parent_account_id"
        case customFields = "custom_fields"
    }
}

public struct Account: Codable, Sendable, Hashable {
    public var id: UUID
    public var fields: AccountFields
    public var version: Int64

    enum CodingKeys: String, CodingKey { case id, version }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        version = try container.decode(Int64.self, forKey: .version)
        fields = try AccountFields(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(version, forKey: .version)
        try fields.encode(to: encoder)
    }
}
