import Contracts
import Foundation
import ServiceKit
import Storage

/// The written columns of a contact as one JSON object keyed by column name. Insert, update and
/// merge send rows this way and PostgreSQL spreads them with `json_populate_record(set)`: a batch
/// of any size is one bound value, not a placeholder per column and row, which cost an import more
/// to parse and bind than to insert.
struct ContactRow: Encodable {
    var id: UUID?
    var firstName: String
    var lastName: String
    var emails: [EmailAddress]
    var phones: [PhoneNumber]
    var emailKeys: [String]
    var phoneKeys: [String]
    var position: String?
    var accountId: UUID?
    var company: String?
    var address: PostalAddress
    var region: String?
    var country: String?
    var preferredLanguage: String?
    var leadSource: String?
    var purchasePurpose: String?
    var buyingPriorities: [String]
    var paymentMethod: String?
    var customerType: String
    var consent: Consent
    var tags: [String]
    var owner: String?
    var customFields: [String: CustomFieldValue]

    init(_ valid: ValidContact, id: UUID? = nil) {
        let fields = valid.fields
        self.id = id
        firstName = fields.firstName ?? ""
        lastName = fields.lastName ?? ""
        emails = fields.emails ?? []
        phones = fields.phones ?? []
        emailKeys = valid.emailKeys
        phoneKeys = valid.phoneKeys
        position = fields.position
        accountId = fields.accountId
        company = fields.company
        address = fields.address ?? PostalAddress()
        region = fields.address?.region
        country = fields.address?.country
        preferredLanguage = fields.preferredLanguage
        leadSource = fields.leadSource?.rawValue
        purchasePurpose = fields.purchasePurpose?.rawValue
        buyingPriorities = (fields.buyingPriorities ?? []).map(\.rawValue)
        paymentMethod = fields.paymentMethod?.rawValue
        customerType = (fields.customerType ?? .prospect).rawValue
        consent = fields.consent ?? Consent()
        tags = fields.tags ?? []
        owner = fields.owner
        customFields = fields.customFields ?? [:]
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, emails, phones, position, company, address, region, country, consent, tags, owner
        case firstName = "first_name"
        case lastName = "last_name"
        case emailKeys = "email_keys"
        case phoneKeys = "phone_keys"
        case accountId = "account_id"
        case preferredLanguage = "preferred_language"
        case leadSource = "lead_source"
        case purchasePurpose = "purchase_purpose"
        case buyingPriorities = "buying_priorities"
        case paymentMethod = "payment_method"
        case customerType = "customer_type"
        case customFields = "custom_fields"
    }

    /// Every written column but `id`, which only an insert sets. The function `create_contact`
    /// (SQL/functions/05_create_contact.sql) lists them too; a test holds the two together.
    static let fieldColumns = CodingKeys.allCases.filter { $0 != .id }.map(\.rawValue)

    /// The rows as one JSON array, bound as `json`.
    static func bind(_ rows: [ContactRow], into sql: inout SQLBuilder) throws -> String {
        try sql.bind(jsonText(rows)) + "::json"
    }
}
