import Foundation

/// One invalid field of a request, named by its JSON path (`emails[1].address`).
public struct FieldError: Codable, Sendable, Hashable {
    public var field: String
    public var message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    /// The decoder's complaint about a field; `field` is empty when it concerns the whole value
    /// (not an object, not JSON at all).
    public init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text
        }
        switch error {
        case let .typeMismatch(type, context):
            self.init(path(context.codingPath), "must be \(APICoding.jsonTypeName(type))")
        case let .valueNotFound(type, context):
            self.init(path(context.codingPath), "must be \(APICoding.jsonTypeName(type)), not null")
        case let .keyNotFound(key, context):
            self.init(path(context.codingPath + [key]), "is required")
        case let .dataCorrupted(context):
            self.init(path(context.codingPath), context.debugDescription)
        @unknown default:
            self.init("", "cannot be read")
        }
    }

    /// The errors in one line: `name: is required; emails[1].address: is not an e-mail address`.
    public static func summary(_ errors: [FieldError]) -> String {
        errors.map { $0.field.isEmpty ? $0.message : "\($0.field): \($0.message)" }.joined(separator: "; ")
    }
}
