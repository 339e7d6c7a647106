import Foundation
import Messaging
import ServiceKit

/// Collects every field error of a request, so the client hears about all of them at once.
struct FieldChecker {
    private(set) var errors: [FieldError] = []

    mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// Trimmed, nil when empty; an error when longer than `maximum` or when required and absent.
    mutating func text(_ value: String?, _ field: String, required: Bool = false, maximum: Int = 200) -> String? {
        let trimmed = value?.trimmed
        guard let trimmed, !trimmed.isEmpty else {
            if required { fail(field, "is required") }
            return nil
        }
        if trimmed.count > maximum { fail(field, "must be at most \(maximum) characters") }
        if Self.hasControlCharacters(trimmed) { fail(field, "must not hold control characters") }
        return trimmed
    }

    /// Trimmed, distinct, non-empty tags of at most 50 characters, in the order given.
    mutating func tags(_ values: [String]?, _ field: String = "tags") -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for (index, raw) in (values ?? []).enumerated() {
            let tag = raw.trimmed
            if tag.isEmpty || tag.count > 50 {
                fail("\(field)[\(index)]", "must be 1 to 50 characters")
            } else if seen.insert(tag.lowercased()).inserted {
                result.append(tag)
            }
        }
        return result
    }

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

    /// NUL and other control characters (line breaks and tabs are text): PostgreSQL refuses NUL
    /// in text, and the others are never meant.
    static func hasControlCharacters(_ text: String) -> Bool {
        // General category Cc is exactly U+0000–001F and U+007F–009F.
        text.unicodeScalars.contains { ($0.value < 0x20 && !["\n", "\r", "\t"].contains($0)) || (0x7F...0x9F).contains($0.value) }
    }

    func check() throws(Problem) {
        guard errors.isEmpty else { throw Problem.validation(errors) }
    }
}
