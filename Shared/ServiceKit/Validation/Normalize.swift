import Foundation

/// The comparable forms of e-mails and phones that dedupe and search use.
public enum Normalize {
    /// Lower case without surrounding space; nil when it is not an address.
    public static func email(_ text: String) -> String? {
        let value = text.trimmed.lowercased()
        guard value.count <= 254, TextShapes.isEmail(value),
            !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        return value
    }

    /// Digits only, with a leading `+` when the number is international (`+` or `00`); nil when it
    /// has too few or too many digits to be a phone number. Punctuation, spaces and an extension
    /// marker's letters are dropped.
    public static func phone(_ text: String) -> String? {
        let trimmed = text.trimmed
        let allowed = trimmed.allSatisfy { $0.isNumber || " +-()./".contains($0) }
        guard allowed else { return nil }
        var digits = String(trimmed.filter(\.isASCII).filter(\.isNumber))
        var international = trimmed.hasPrefix("+")
        if !international, digits.hasPrefix("00") {
            digits.removeFirst(2)
            international = true
        }
        guard (5...17).contains(digits.count) else { return nil }
        return international ? "+" + digits : digits
    }
}

extension Normalize {
    /// Upper case letters and digits only, as tax and VAT numbers are compared (`DE 123.456.789`
    /// is `DE123456789`); nil when nothing is left.
    public static func taxId(_ text: String) -> String? {
        let kept = String(text.uppercased().unicodeScalars.filter { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }.map(Character.init))
        return kept.isEmpty ? nil : kept
    }
}
