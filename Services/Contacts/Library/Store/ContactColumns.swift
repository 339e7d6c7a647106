import Foundation
import Storage

/// The written columns of a contact and their bound values, shared by insert, update and merge.
struct ContactColumns {
    var names: [String] = []
    var placeholders: [String] = []

    init(_ valid: ValidContact, into sql: inout SQLBuilder) throws {
        let fields = valid.fields
        func add(_ name: String, _ placeholder: String) {
            names.append(name)
            placeholders.append(placeholder)
        }
        add("first_name", try sql.bind(fields.firstName ?? ""))
        add("last_name", try sql.bind(fields.lastName ?? ""))
        add("emails", try sql.bind(jsonText(fields.emails ?? [])) + "::jsonb")
        add("phones", try sql.bind(jsonText(fields.phones ?? [])) + "::jsonb")
        add("email_keys", try sql.bind(valid.emailKeys) + "::text[]")
        add("phone_keys", try sql.bind(valid.phoneKeys) + "::text[]")
        add("position", try sql.bind(fields.position))
        add("account_id", try sql.bind(fields.accountId))
        add("company", try sql.bind(fields.company))
        add("address", try sql.bind(jsonText(fields.address ?? PostalAddress())) + "::jsonb")
        add("region", try sql.bind(fields.address?.region))
        add("country", try sql.bind(fields.address?.country))
        add("preferred_language", try sql.bind(fields.preferredLanguage))
        add("lead_source", try sql.bind(fields.leadSource?.rawValue))
        add("purchase_purpose", try sql.bind(fields.purchasePurpose?.rawValue))
        add("buying_priorities", try sql.bind((fields.buyingPriorities ?? []).map(\.rawValue)) + "::text[]")
        add("payment_method", try sql.bind(fields.paymentMethod?.rawValue))
        add("customer_type", try sql.bind((fields.customerType ?? .prospect).rawValue))
        add("consent", try sql.bind(jsonText(fields.consent ?? Consent())) + "::jsonb")
        add("tags", try sql.bind(fields.tags ?? []) + "::text[]")
        add("owner", try sql.bind(fields.owner))
        add("custom_fields", try sql.bind(jsonText(fields.customFields ?? [:])) + "::jsonb")
    }

    var assignments: String {
        zip(names, placeholders).map { "\($0) = \($1)" }.joined(separator: ", ")
    }
}
