@testable import ContactsService
import ServiceKit
import Testing

/// The hand-written checks that replaced regular expressions on the import's hot path, held to
/// the expressions they replaced.
@Suite("Text shapes")
struct TextShapesTests {
    static let emails = [
        "anna@example.com", "a.b+c@sub.example.co.uk", "x@y.z", "@example.com", "anna@", "anna@example", "anna@example.",
        "anna@.com", "anna@@example.com", "an na@example.com", "anna@exa mple.com", "anna@example.com\n", "a@b@c.de", "ä@bücher.de",
        "anna@example..com", "anna@example.c", "",
    ]

    @Test("e-mails", arguments: emails)
    func email(_ text: String) {
        #expect(TextShapes.isEmail(text) == (text.wholeMatch(of: /[^@\s]+@[^@\s]+\.[^@\s.]+/) != nil), "\(text)")
    }

    @Test("country codes", arguments: ["DE", "de", "D", "DEU", "D1", "ÄB", ""])
    func country(_ text: String) {
        #expect(TextShapes.isCountryCode(text) == (text.wholeMatch(of: /[A-Z]{2}/) != nil), "\(text)")
    }

    @Test("language tags", arguments: ["de", "pt-BR", "zh-Hant-TW", "d", "deut", "de-", "de--BR", "-de", "de-B", "de-123456789", "sr-Latn-RS", "de_DE"])
    func language(_ text: String) {
        #expect(TextShapes.isLanguageTag(text) == (text.wholeMatch(of: /[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*/) != nil), "\(text)")
    }

    @Test("dates", arguments: ["2026-01-31", "2026-1-31", "20260131", "2026-01-3a", "2026/01/31", "12026-01-31"])
    func date(_ text: String) {
        #expect(TextShapes.isISODate(text) == (text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}/) != nil), "\(text)")
    }

    @Test("identifiers", arguments: ["vat_id", "a", "a1_b2", "1a", "_a", "Abc", "a-b", "", String(repeating: "a", count: 63), String(repeating: "a", count: 64)])
    func identifier(_ text: String) {
        #expect(TextShapes.isIdentifier(text) == (text.wholeMatch(of: /[a-z][a-z0-9_]{0,62}/) != nil), "\(text)")
    }

    @Test("trimming")
    func trimming() {
        #expect("  Anna \n".trimmed == "Anna")
        #expect("\t\u{00A0}Anna Berg\u{2003}".trimmed == "Anna Berg")
        #expect(" \n ".trimmed == "")
        #expect("Anna".trimmed == "Anna")
        #expect(" a b "[...].trimmed == "a b")
    }
}
