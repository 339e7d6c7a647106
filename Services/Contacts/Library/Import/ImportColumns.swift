import Contracts
import Foundation
import Messaging
import ServiceKit

/// The CSV columns of import and export. Lists (e-mails, phones, tags, priorities) are separated
/// by `;`; consent columns hold true or false; `custom.<name>` holds a custom field.
enum CSVColumn: String, CaseIterable {
    case id, firstName = "first_name", lastName = "last_name", email, phone, position, company
    case accountId = "account_id", street, city, region, postalCode = "postal_code", country
    case preferredLanguage = "preferred_language", leadSource = "lead_source", purchasePurpose = "purchase_purpose"
    case buyingPriorities = "buying_priorities", paymentMethod = "payment_method", customerType = "customer_type"
    case tags, owner, emailConsent = "email_consent", phoneConsent = "phone_consent", smsConsent = "sms_consent"
    case createdAt = "created_at", updatedAt = "updated_at"

    /// Written on export, ignored on import (the service assigns them).
    var isReadOnly: Bool { [.id, .createdAt, .updatedAt].contains(self) }

    /// Common spellings of headers other systems write.
    static let aliases: [String: CSVColumn] = [
        "firstname": .firstName, "given_name": .firstName, "forename": .firstName,
        "lastname": .lastName, "surname": .lastName, "family_name": .lastName, "name": .lastName,
        "e_mail": .email, "mail": .email, "email_address": .email, "emails": .email,
        "telephone": .phone, "phone_number": .phone, "mobile": .phone, "tel": .phone, "phones": .phone,
        "title": .position, "job_title": .position, "organisation": .company, "organization": .company,
        "company_name": .company, "zip": .postalCode, "postcode": .postalCode, "zip_code": .postalCode,
        "state": .region, "province": .region, "language": .preferredLanguage, "source": .leadSource, "tag": .tags,
    ]

    static func normalizedHeader(_ header: String) -> String {
        header.trimmed.lowercased()
            .replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")
    }
}

/// Which CSV column feeds which field, worked out once from the header row.
struct ImportLayout {
    var columns: [Int: CSVColumn] = [:]
    var customFields: [Int: String] = [:]
    var ignored: [String] = []
    var headerCount: Int
    var header: [String]

    /// `mapping` names, per header as written in the file, the column it is (`{"Nachname": "last_name"}`).
    init(header: [String], mapping: [String: String]) throws(ContactsError) {
        var check = FieldChecker()
        for (target, _) in mapping.map({ ($0.value, $0.key) })
        where CSVColumn(rawValue: target) == nil && !target.hasPrefix("custom.") {
            check.fail("mapping", "'\(target)' is not an import column (\(CSVColumn.allCases.map(\.rawValue).joined(separator: ", ")), custom.<name>)")
        }
        try check.check(ContactsError.invalid)
        headerCount = header.count
        self.header = header
        for (index, name) in header.enumerated() {
            let target = mapping[name] ?? CSVColumn.normalizedHeader(name)
            if target.hasPrefix("custom.") {
                customFields[index] = String(target.dropFirst("custom.".count))
            } else if let column = CSVColumn(rawValue: target) ?? CSVColumn.aliases[target] {
                if !column.isReadOnly { columns[index] = column }
            } else {
                ignored.append(name)
            }
        }
        if !columns.values.contains(.lastName) && !columns.values.contains(.firstName) {
            throw ContactsError.invalid("header", "the file has no first_name or last_name column (or a mapping to one)")
        }
    }

    /// A column by its header, for a reason given about it.
    func describe(column index: Int) -> String {
        index < header.count ? "column '\(header[index])'" : "column \(index + 1)"
    }

    /// The row as contact fields, or why it cannot be one.
    func fields(_ row: [String], definitions: [CustomFieldDefinition]) -> Result<ContactFields, RowError> {
        var fields = ContactFields()
        var problems: [String] = []
        func list(_ text: String) -> [String] {
            text.split(separator: ";").map { $0.trimmed }.filter { !$0.isEmpty }
        }
        func value<E: RawRepresentable<String> & CaseIterable>(_ text: String, _ column: CSVColumn, _: E.Type) -> E? {
            let trimmed = text.trimmed
            guard !trimmed.isEmpty else { return nil }
            guard let value = E(rawValue: trimmed.lowercased()) else {
                problems.append("\(column.rawValue): '\(trimmed)' is not one of: \(E.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return value
        }
        func consent(_ text: String, _ column: CSVColumn) -> ConsentRecord? {
            switch text.trimmed.lowercased() {
            case "": return nil
            case "true", "yes", "1", "y": return ConsentRecord(granted: true)
            case "false", "no", "0", "n": return ConsentRecord(granted: false)
            default:
                problems.append("\(column.rawValue): '\(text)' is not true or false")
                return nil
            }
        }
        if row.count > headerCount {
            problems.append("the row has \(row.count) fields, the header \(headerCount)")
        }
        var custom: [String: CustomFieldValue] = [:]
        var address = PostalAddress()
        var consentRecords = Consent()
        for (index, cell) in row.enumerated() {
            let text = SpreadsheetSafety.restored(cell)
            if let name = customFields[index] {
                let trimmed = text.trimmed
                guard !trimmed.isEmpty else { continue }
                let type = definitions.first { $0.entity == .contact && $0.name == name }?.type
                switch type {
                case .number: custom[name] = Double(trimmed).map(JSONValue.number) ?? .string(trimmed)
                case .boolean: custom[name] = ["true", "false"].contains(trimmed.lowercased()) ? .bool(trimmed.lowercased() == "true") : .string(trimmed)
                default: custom[name] = .string(trimmed)
                }
                continue
            }
            guard let column = columns[index] else { continue }
            switch column {
            case .firstName: fields.firstName = text
            case .lastName: fields.lastName = text
            case .email: fields.emails = list(text).map { EmailAddress(address: $0) }
            case .phone: fields.phones = list(text).map { PhoneNumber(number: $0) }
            case .position: fields.position = text
            case .company: fields.company = text
            case .accountId:
                let trimmed = text.trimmed
                if !trimmed.isEmpty {
                    if let id = UUID(uuidString: trimmed) { fields.accountId = id } else { problems.append("account_id: '\(trimmed)' is not a UUID") }
                }
            case .street: address.street = text
            case .city: address.city = text
            case .region: address.region = text
            case .postalCode: address.postalCode = text
            case .country: address.country = text
            case .preferredLanguage: fields.preferredLanguage = text
            case .leadSource: fields.leadSource = value(text, column, LeadSource.self)
            case .purchasePurpose: fields.purchasePurpose = value(text, column, PurchasePurpose.self)
            case .buyingPriorities: fields.buyingPriorities = list(text).compactMap { value($0, column, BuyingPriority.self) }
            case .paymentMethod: fields.paymentMethod = value(text, column, PaymentMethod.self)
            case .customerType: fields.customerType = value(text, column, CustomerType.self)
            case .tags: fields.tags = list(text)
            case .owner: fields.owner = text
            case .emailConsent: consentRecords.email = consent(text, column)
            case .phoneConsent: consentRecords.phone = consent(text, column)
            case .smsConsent: consentRecords.sms = consent(text, column)
            case .id, .createdAt, .updatedAt: break
            }
        }
        fields.address = address
        fields.consent = consentRecords
        fields.customFields = custom
        if !problems.isEmpty { return .failure(RowError(problems.joined(separator: "; "))) }
        return .success(fields)
    }
}

struct RowError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
