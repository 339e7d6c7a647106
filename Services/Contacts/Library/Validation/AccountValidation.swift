import Foundation
import ServiceKit

extension AccountFields {
    func validated(definitions: [CustomFieldDefinition]) throws(ContactsError) -> AccountFields {
        var check = FieldChecker()
        var result = AccountFields()
        result.name = check.text(name, "name", required: true)
        result.legalName = check.text(legalName, "legal_name")
        result.taxId = check.text(taxId, "tax_id", maximum: 50)
        result.industry = check.text(industry, "industry")
        result.sizeBand = sizeBand
        if let website = check.text(website, "website", maximum: 500) {
            let url = website.contains("://") ? website : "https://" + website
            if let parsed = URL(string: url), let host = parsed.host, host.contains("."),
                ["http", "https"].contains(parsed.scheme?.lowercased() ?? "")
            {
                result.website = url
            } else {
                check.fail("website", "is not a web address")
            }
        }
        result.address = check.address(address)
        result.parentAccountId = parentAccountId
        result.owner = check.text(owner, "owner")
        result.tags = check.tags(tags)
        result.customFields = check.customFields(customFields, definitions: definitions, entity: .account)
        try check.check(ContactsError.invalid)
        return result
    }
}
