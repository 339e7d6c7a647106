/// The shapes that validation checks on every field of every imported row, written out by hand:
/// a regex literal here was compiled anew on each call, and cost an import a fifth of its CPU.
public enum TextShapes {
    /// `local@domain.tld`: one `@`, no white space, a dot in the domain with text on both sides of
    /// its last dot.
    public static func isEmail(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let at = bytes.firstIndex(of: UInt8(ascii: "@")), at > 0 else { return false }
        let domain = bytes[(at + 1)...]
        guard !domain.contains(UInt8(ascii: "@")), let dot = domain.lastIndex(of: UInt8(ascii: ".")) else { return false }
        guard dot > domain.startIndex, dot < domain.endIndex - 1 else { return false }
        return !text.unicodeScalars.contains { $0.properties.isWhitespace }
    }

    /// Two ASCII capitals, as ISO 3166-1 alpha-2 codes are written.
    public static func isCountryCode(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 2 && bytes.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    /// A BCP 47-like tag: 2 or 3 letters, then any number of `-` and 2 to 8 letters or digits.
    public static func isLanguageTag(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count), language.allSatisfy(isLetter) else { return false }
        return parts.dropFirst().allSatisfy { (2...8).contains($0.count) && $0.allSatisfy { isLetter($0) || isDigit($0) } }
    }

    /// `YYYY-MM-DD` by shape (the calendar check is the caller's).
    public static func isISODate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        return [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { isDigit(bytes[$0]) }
    }

    /// A lower-case identifier of at most 63 characters: a letter, then letters, digits or `_`.
    public static func isIdentifier(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, (1...63).contains(bytes.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return bytes.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
