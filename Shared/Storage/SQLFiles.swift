import Foundation

/// A schema's SQL as the files of a target's `SQL/` folder, embedded at build time (the EmbedFiles
/// plugin): `migrations/NNN_what_it_does.sql`, append-only, applied once each in version order and
/// checksummed; and `functions/NN_name.sql`, the current definitions of the functions that are a
/// service's read and write paths (documents, summaries, its create), applied again whenever their
/// text changes. A function lives in one file only; migrations from now on define none (the older
/// ones keep the definitions they applied, as history).
public struct SQLFiles: Sendable {
    public var migrations: [Migration]
    public var functions: [SQLFunction]

    public static let none = SQLFiles(migrations: [], functions: [])

    public init(migrations: [Migration], functions: [SQLFunction]) {
        self.migrations = migrations
        self.functions = functions
    }

    /// From `(path below SQL/, text)` pairs.
    public init(_ files: [(path: String, text: String)]) {
        var migrations: [Migration] = []
        var functions: [SQLFunction] = []
        for (path, text) in files.sorted(by: { $0.path < $1.path }) {
            let parts = path.split(separator: "/")
            guard parts.count == 2, parts[1].hasSuffix(".sql") else { preconditionFailure("SQL/\(path) is neither a migration nor a function") }
            let stem = String(parts[1].dropLast(".sql".count))
            // A file ends with a line break; the text applied (and checksummed) is without it.
            let sql = text.hasSuffix("\n") ? String(text.dropLast()) : text
            switch parts[0] {
            case "migrations":
                let words = stem.split(separator: "_", maxSplits: 1)
                guard words.count == 2, let version = Int(words[0]) else { preconditionFailure("SQL/\(path): name it NNN_what_it_does.sql") }
                migrations.append(Migration(version: version, name: words[1].replacingOccurrences(of: "_", with: " "), sql: sql))
            case "functions":
                functions.append(SQLFunction(file: stem, sql: sql))
            default:
                preconditionFailure("SQL/\(path) is neither under migrations/ nor under functions/")
            }
        }
        self.init(migrations: migrations, functions: functions)
    }

    public static func + (left: SQLFiles, right: SQLFiles) -> SQLFiles {
        SQLFiles(migrations: left.migrations + right.migrations, functions: left.functions + right.functions)
    }
}

/// A function's current definition (`CREATE OR REPLACE FUNCTION …`), named by its file.
public struct SQLFunction: Sendable, Equatable {
    /// The file's name without `.sql`: `05_create_contact`. Functions apply in this order.
    public var file: String
    public var sql: String

    public init(file: String, sql: String) {
        self.file = file
        self.sql = sql
    }

    /// The function's name: the file's, without its order number.
    public var name: String { String(file.split(separator: "_", maxSplits: 1).last ?? Substring(file)) }
}
