import Storage

/// The order of a keyset-paged list: its key expressions, each with the cast that turns a cursor
/// value (text) back into the key's type.
public struct Keyset: Sendable {
    public var keys: [(expression: String, cast: String)]
    public var descending: Bool

    public init(_ keys: [(expression: String, cast: String)], descending: Bool = false) {
        self.keys = keys
        self.descending = descending
    }

    /// By creation: `created_at`, then `id`, of the row `alias`.
    public static func creation(_ alias: String, descending: Bool = false) -> Keyset {
        Keyset([("\(alias).created_at", "::timestamptz"), ("\(alias).id", "::uuid")], descending: descending)
    }
}

extension SQLBuilder {
    /// A list's end: the rows past the cursor's position (after `connective`, " AND " or
    /// " WHERE "), in the keyset's order, one more than the page holds (it tells whether a next
    /// page exists; `PostgresClient.page` drops it).
    public mutating func appendPage(_ page: PageRequest, in keyset: Keyset, connective: String = " AND ") throws {
        let columns = keyset.keys.map(\.expression).joined(separator: ", ")
        if let cursor = page.cursor {
            var values: [String] = []
            for (key, value) in zip(keyset.keys, cursor.values) { values.append(try bind(value) + key.cast) }
            append("\(connective)(\(columns)) \(keyset.descending ? "<" : ">") (\(values.joined(separator: ", ")))")
        }
        let direction = keyset.descending ? " DESC" : ""
        append(" ORDER BY \(keyset.keys.map { $0.expression + direction }.joined(separator: ", ")) LIMIT \(page.limit + 1)")
    }
}
