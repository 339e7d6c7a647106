import Foundation
import ServiceKit

/// A contact's fields after checking: cleaned values plus the derived columns.
struct ValidContact: Sendable {
    var fields: ContactFields
    var emailKeys: [String]
    var phoneKeys: [String]
}

extension ContactFields {
    /// Trims, normalizes and checks every field. `previous` is the stored consent on update: a
    /// consent whose `granted` changed without a time given is stamped `now`.
    func validated(definitions: [CustomFieldDefinition], previous: Consent?, now: Date) throws(ContactsError) -> ValidContact {
        var check = FieldChecker()
        var result = ContactFields()
        result.firstName = check.text(firstName, "first_name")
        result.lastName = check.text(lastName, "last_name")
        if result.firstName == nil && result.lastName == nil {
            check.fail("last_name", "a contact needs a first or a last name")
        }

        let emailKeys: [String]
        (result.emails, emailKeys) = Self.identities(
            emails, field: "emails", member: "address", value: \.address, label: \.label, primary: \.primary,
            key: Normalize.email, malformed: "is not an e-mail address", check: &check
        )
        let phoneKeys: [String]
        (result.phones, phoneKeys) = Self.identities(
            phones, field: "phones", member: "number", value: \.number, label: \.label, primary: \.primary,
            key: Normalize.phone, malformed: "is not a phone number (5 to 17 digits, optionally with +, spaces, dashes, dots, brackets)",
            check: &check
        )

        result.position = check.text(position, "position")
        result.accountId = accountId
        result.company = check.text(company, "company")
        result.address = check.address(address)
        if let language = check.text(preferredLanguage, "preferred_language", maximum: 35) {
            if !TextShapes.isLanguageTag(language) {
                check.fail("preferred_language", "must be a language tag such as de or pt-BR")
            } else {
                result.preferredLanguage = language
            }
        }
        result.leadSource = leadSource
        result.purchasePurpose = purchasePurpose
        if let priorities = buyingPriorities {
            if Set(priorities).count != priorities.count {
                check.fail("buying_priorities", "ranks each priority at most once")
            }
            result.buyingPriorities = priorities
        } else {
            result.buyingPriorities = []
        }
        result.paymentMethod = paymentMethod
        result.customerType = customerType ?? .prospect
        result.consent = Self.stamped(consent ?? Consent(), previous: previous, now: now)
        result.tags = check.tags(tags)
        result.owner = check.text(owner, "owner")
        result.customFields = check.customFields(customFields, definitions: definitions, entity: .contact)
        try check.check(ContactsError.invalid)
        return ValidContact(fields: result, emailKeys: emailKeys, phoneKeys: phoneKeys)
    }

    /// E-mails or phones: each one's identity key, refused when it has none or repeats an earlier
    /// one's; the value trimmed, the label checked, one primary.
    static func identities<T>(
        _ items: [T]?, field: String, member: String, value: WritableKeyPath<T, String>, label: WritableKeyPath<T, String?>,
        primary: WritableKeyPath<T, Bool>, key normalize: (String) -> String?, malformed: String, check: inout FieldChecker
    ) -> (items: [T], keys: [String]) {
        var keys: [String] = []
        var kept: [T] = []
        for (index, var item) in (items ?? []).enumerated() {
            let path = "\(field)[\(index)]"
            guard let key = normalize(item[keyPath: value]) else {
                check.fail("\(path).\(member)", malformed)
                continue
            }
            guard !keys.contains(key) else {
                check.fail("\(path).\(member)", "is listed twice")
                continue
            }
            keys.append(key)
            item[keyPath: value] = item[keyPath: value].trimmed
            item[keyPath: label] = check.text(item[keyPath: label], "\(path).label", maximum: 50)
            kept.append(item)
        }
        return (withOnePrimary(kept, primary, field: field, check: &check), keys)
    }

    /// At most one primary; the first becomes primary when none is.
    static func withOnePrimary<T>(_ items: [T], _ primary: WritableKeyPath<T, Bool>, field: String, check: inout FieldChecker) -> [T] {
        var items = items
        let primaries = items.filter { $0[keyPath: primary] }.count
        if primaries > 1 { check.fail(field, "at most one can be primary") }
        if primaries == 0, !items.isEmpty { items[0][keyPath: primary] = true }
        return items
    }

    static func stamped(_ consent: Consent, previous: Consent?, now: Date) -> Consent {
        func stamp(_ record: ConsentRecord?, _ old: ConsentRecord?) -> ConsentRecord? {
            guard var record else { return nil }
            if record.granted != old?.granted, record.at == nil || record.at == old?.at { record.at = now }
            if record.at == nil { record.at = old?.at ?? now }
            return record
        }
        return Consent(email: stamp(consent.email, previous?.email), phone: stamp(consent.phone, previous?.phone),
                       sms: stamp(consent.sms, previous?.sms))
    }
}
