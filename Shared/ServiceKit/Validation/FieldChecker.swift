import Foundation

/// Collects every field error of a request, so the client hears about all of them at once.
/// Services extend it with checks of their own shapes.
public struct FieldChecker: Sendable {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// Trimmed, nil when empty; an error when longer than `maximum` or when required and absent.
    public mutating func text(_ value: String?, _ field: String, required: Bool = false, maximum: Int = 200) -> String? {
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
    public mutating func tags(_ values: [String]?, _ field: String = "tags") -> [String] {
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

    /// NUL and other control characters (line breaks and tabs are text): PostgreSQL refuses NUL
    /// in text, and the others are never meant.
    public static func hasControlCharacters(_ text: String) -> Bool {
        // General category Cc is exactly U+0000–001F and U+007F–009F.
        text.unicodeScalars.contains { ($0.value < 0x20 && !["\n", "\r", "\t"].contains($0)) || (0x7F...0x9F).contains($0.value) }
    }

    /// Throws the collected errors, if any, as the service's own error (`ContactsError.invalid`).
    public func check<Failure: Error>(_ failure: ([FieldError]) -> Failure) throws(Failure) {
        guard errors.isEmpty else { throw failure(errors) }
    }
}

extension StringProtocol {
    /// Without leading and trailing white space and line breaks. Foundation's
    /// `trimmingCharacters(in:)` goes through NSString on Linux, which an import pays on every field.
    public var trimmed: String {
        let scalars = String(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
