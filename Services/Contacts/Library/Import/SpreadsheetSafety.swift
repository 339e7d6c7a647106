/// CSV injection: a spreadsheet that opens an exported file runs a cell that starts with `=`,
/// `+`, `-` or `@` (or a tab or carriage return before one) as a formula, so a contact named
/// `=HYPERLINK(…)` would become a live link in the user's sheet. Every cell Switchboard writes to
/// CSV gets a leading apostrophe when it starts so (OWASP's advice); import takes that apostrophe
/// away again, so an export imports back unchanged. A value that itself starts with an apostrophe
/// before one of those characters loses the apostrophe on import.
enum SpreadsheetSafety {
    private static let triggers: Set<Character> = ["=", "+", "-", "@", "\t", "\r"]

    static func neutralized(_ cell: String) -> String {
        guard let first = cell.first, triggers.contains(first) else { return cell }
        return "'" + cell
    }

    static func restored(_ cell: String) -> String {
        guard cell.first == "'", let second = cell.dropFirst().first, triggers.contains(second) else { return cell }
        return String(cell.dropFirst())
    }
}
