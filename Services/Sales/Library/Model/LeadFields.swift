import Contracts
import Foundation
import ServiceKit

/// What a client writes about a lead. Its status moves by `/qualify`, `/disqualify` and
/// `/convert`; a patch may only set it back to `new` or on to `contacted`.
struct LeadFields: Codable, Sendable, Hashable {
    var firstName: String?
    var lastName: String?
    var company: String?
    var email: String?
    var phone: String?
    var source: LeadSource?
    var campaignId: UUID?
    var owner: String?
    var notes: String?
    var status: LeadStatus?

    enum CodingKeys: String, CodingKey {
        case company, email, phone, source, owner, notes, status
        case firstName = "first_name"
        case lastName = "last_name"
        case campaignId = "campaign_id"
    }

    /// Members of the lead document that are the service's to set.
    static let serviceSet = [
        "disqualify_reason", "create_account", "deal_id", "contact_id", "account_id", "converted_at",
    ]

    func validated() throws(SalesError) -> LeadFields {
        var check = FieldChecker()
        var result = self
        result.firstName = check.text(firstName, "first_name")
        result.lastName = check.text(lastName, "last_name")
        result.company = check.text(company, "company")
        if result.lastName == nil && result.company == nil { check.fail("last_name", "a lead needs a last name or a company") }
        result.email = check.text(email, "email", maximum: 254)?.lowercased()
        if let email = result.email, email.wholeMatch(of: /[^@\s]+@[^@\s]+\.[^@\s]+/) == nil {
            check.fail("email", "is not an e-mail address")
        }
        result.phone = check.text(phone, "phone", maximum: 40)
        if let phone = result.phone, phone.filter(\.isNumber).count < 5 { check.fail("phone", "needs at least 5 digits") }
        result.owner = check.text(owner, "owner")
        result.notes = check.text(notes, "notes", maximum: 5000)
        try check.check(SalesError.invalid)
        return result
    }
}

enum LeadStatus: String, APIEnum {
    case new, contacted, qualified, disqualified, converted
}

/// `POST /leads/{id}/convert`: whether an account is to be made of the lead's company, and the deal.
struct LeadConversion: Decodable, Sendable {
    var createAccount: Bool?
    var deal: DealFields?
    var version: Int64?

    enum CodingKeys: String, CodingKey {
        case deal, version
        case createAccount = "create_account"
    }
}

/// `POST /leads/{id}/qualify` and `/disqualify`.
struct LeadAction: Decodable, Sendable {
    var reason: String?
    var version: Int64?
}
