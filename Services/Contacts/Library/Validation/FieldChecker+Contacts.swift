import Foundation
import Messaging
import ServiceKit

/// The contacts service's own field checks: postal addresses and custom fields.
extension FieldChecker {
    mutating func address(_ value: PostalAddress?, _ field: String = "address") -> PostalAddress? {
        guard let value else { return nil }
        var address = PostalAddress(
            street: text(value.street, "\(field).street", maximum: 500),
            city: text(value.city, "\(field).city"),
            region: text(value.region, "\(field).region"),
            postalCode: text(value.postalCode, "\(field).postal_code", maximum: 20),
            country: text(value.country, "\(field).country")?.uppercased()
        )
        if let country = address.country, !TextShapes.isCountryCode(country) {
            fail("\(field).country", "must be an ISO 3166-1 alpha-2 code such as DE")
            address.country = nil
        }
        return address == PostalAddress() ? nil : address
    }

    /// Checks `custom_fields` against the admin's definitions for the entity.
    mutating func customFields(
        _ values: [String: CustomFieldValue]?, definitions: [CustomFieldDefinition], entity: CustomFieldEntity
    ) -> [String: CustomFieldValue] {
        let defined = Dictionary(
            definitions.filter { $0.entity == entity }.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }
        )
        var result: [String: CustomFieldValue] = [:]
        for (name, value) in values ?? [:] {
            guard let definition = defined[name] else {
                fail("custom_fields.\(name)", "is not a custom field of \(entity.rawValue)s; an admin defines them at /api/v1/custom-fields")
                continue
            }
            if case let .string(text) = value, Self.hasControlCharacters(text) {
                fail("custom_fields.\(name)", "must not hold control characters")
            } else if let problem = definition.problem(with: value) {
                fail("custom_fields.\(name)", problem)
            } else if value != .null {
                result[name] = value
            }
        }
        for definition in defined.values where definition.required && result[definition.name] == nil {
            if values?[definition.name] == nil { fail("custom_fields.\(definition.name)", "is required") }
        }
        return result
    }
}
