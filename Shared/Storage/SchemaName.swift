/// A schema name checked to be a plain identifier, so it can be put into SQL text.
/// (Identifiers cannot be bound as parameters; this is the one place that makes them safe.)
public struct SchemaName: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) throws(StorageError) {
        let valid = !rawValue.isEmpty && rawValue.count <= 63
            && rawValue.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
            && !("0"..."9").contains(rawValue.unicodeScalars.first!)
        guard valid else { throw .invalidSchemaName(rawValue) }
        self.rawValue = rawValue
    }

    /// `"schema"`: quoted, ready for SQL text.
    public var quoted: String { "\"\(rawValue)\"" }
    public var description: String { rawValue }

    /// `"schema"."table"`.
    public func table(_ name: String) -> String { "\(quoted).\"\(name)\"" }
}
