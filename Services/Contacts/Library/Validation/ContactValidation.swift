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

        var emailKeys: [String] = []
        var emails: [EmailAddress] = []
        for (index, email) in (self.emails ?? []).enumerated() {
            guard let key = Normalize.email(email.address) else {
                check.fail("emails[\(index)].address", "is not an e-mail address")
                continue
            }
            guard !emailKeys.contains(key) else {
                check.fail("emails[\(index)].address", "is listed twice")
                continue
            }
            emailKeys.append(key)
            emails.append(EmailAddress(address: email.address.trimmed,
                                       label: check.text(email.label, "emails[\(index)].label", maximum: 50), primary: email.primary))
        }
        result.emails = Self.withOnePrimary(emails, \.primary, field: "emails", check: &check)

        var phoneKeys: [String] = []
        var phones: [PhoneNumber] = []
        for (index, phone) in (self.phones ?? []).enumerated() {
            guard let key = Normalize.phone(phone.number) else {
                check.fail("phones[\(index)].number", "is not a phone number (5 to 17 digits, optionally with +, spaces, dashes, dots, brackets)")
                continue
            }
            guard !phoneKeys.contains(key) else {
                check.fail("phones[\(index)].number", "is listed twice")
                continue
            }
            phoneKeys.append(key)
            phones.append(PhoneNumber(number: phone.number.trimmed,
                                      label: check.text(phone.label, "phones[\(index)].label", maximum: 50), primary: phone.primary))
        }
        result.phones = Self.withOnePrimary(phones, \.primary, field: "phones", check: &check)

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
