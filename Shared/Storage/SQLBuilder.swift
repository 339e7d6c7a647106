import PostgresNIO

/// SQL text assembled piece by piece with its bound values, for queries whose filters depend on
/// the request. Values are always bound, never spliced into the text.
public struct SQLBuilder: Sendable {
    public private(set) var sql: String
    public private(set) var bindings = PostgresBindings()

    public init(_ sql: String = "") {
        self.sql = sql
    }

    /// Binds `value` and returns its placeholder (`$3`).
    public mutating func bind(_ value: some PostgresEncodable & Sendable) throws -> String {
        try bindings.append(value)
        return "$\(bindings.count)"
    }

    /// Binds `value`, or SQL NULL when it is nil.
    public mutating func bind<Value: PostgresEncodable & Sendable>(_ value: Value?) throws -> String {
        if let value { try bindings.append(value) } else { bindings.appendNull() }
        return "$\(bindings.count)"
    }

    public mutating func append(_ text: String) {
        sql += text
    }

    public var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: bindings) }
}
