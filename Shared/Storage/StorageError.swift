public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidSchemaName(String)
    /// An applied migration's text differs from the one in this build: history was rewritten.
    case migrationChanged(schema: String, version: Int, name: String, applied: String, current: String)
    case migrationFailed(schema: String, version: Int, name: String, reason: String)
    case functionFailed(schema: String, file: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidSchemaName(name):
            "'\(name)' is not a valid schema name (lower-case letters, digits and _ only)"
        case let .migrationChanged(schema, version, name, applied, current):
            "migration \(schema) #\(version) '\(name)' was changed after it was applied "
                + "(applied checksum \(applied), this build \(current)); add a new migration instead"
        case let .migrationFailed(schema, version, name, reason):
            "migration \(schema) #\(version) '\(name)' failed: \(reason)"
        case let .functionFailed(schema, file, reason):
            "function file \(schema) \(file).sql failed: \(reason)"
        }
    }
}
