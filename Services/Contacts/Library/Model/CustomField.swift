import Contracts
import Foundation
import ServiceKit
import Messaging

public typealias CustomFieldValue = JSONValue

public enum CustomFieldEntity: String, APIEnum {
    case contact, account
}

public enum CustomFieldType: String, APIEnum {
    case string, number, boolean, date
    case `enum`
}

/// A field an admin adds to contacts or accounts; `custom_fields` values are checked against it.
public struct CustomFieldDefinition: Codable, Sendable, Hashable {
    public var id: UUID
    public var entity: CustomFieldEntity
    /// snake_case, the key in `custom_fields`.
    public var name: String
    public var label: String
    public var type: CustomFieldType
    /// The values an `enum` field takes.
    public var allowedValues: [String]
    public var required: Bool

    enum CodingKeys: String, CodingKey {
        case id, entity, name, label, type, required
        case allowedValues = "allowed_values"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = UUID()  // the service names definitions; an id in a request is ignored
        entity = try container.decode(CustomFieldEntity.self, forKey: .entity)
        name = try container.decode(String.self, forKey: .name)
        label = try container.decodeIfPresent(String.self, forKey: .label) ?? name
        type = try container.decode(CustomFieldType.self, forKey: .type)
        allowedValues = try container.decodeIfPresent([String].self, forKey: .allowedValues) ?? []
        required = try container.decodeIfPresent(Bool.self, forKey: .required) ?? false
    }

    /// Why `value` does not fit this field, or nil when it does.
    public func problem(with value: CustomFieldValue) -> String? {
        switch (type, value) {
        case (_, .null): return required ? "is required" : nil
        case (.string, .string), (.number, .number), (.boolean, .bool): return nil
        case let (.date, .string(text)):
            return TextShapes.isISODate(text) ? nil : "must be a date such as 2026-01-31"
        case let (.enum, .string(text)):
            return allowedValues.contains(text) ? nil : "'\(text)' is not one of: \(allowedValues.joined(separator: ", "))"
        case (.string, _): return "must be a string"
        case (.number, _): return "must be a number"
        case (.boolean, _): return "must be true or false"
        case (.date, _): return "must be a date string such as 2026-01-31"
        case (.enum, _): return "must be one of: \(allowedValues.joined(separator: ", "))"
        }
    }
}
