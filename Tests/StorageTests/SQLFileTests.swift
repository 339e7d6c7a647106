import Foundation
import Storage
import Testing

/// The SQL of every target's `SQL/` folder, as files on disk: each function defined in one file
/// only, named as the file, and no migration after the move to files defining one.
@Suite("SQL files")
struct SQLFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The last migration of each folder written before functions moved to their own files: those
    /// keep the definitions they applied, as history (their checksums are on record).
    static let historical = ["Shared/Messaging": 6, "Services/Contacts/Library": 109, "Services/Sales/Library": 106, "Services/Gateway/Library": 101]

    /// `SQL/` folders and their `.sql` files, by kind (`migrations`, `functions`).
    static func files() throws -> [(owner: String, kind: String, name: String, text: String)] {
        var found: [(String, String, String, String)] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            let path = url.path.dropFirst(root.path.count + 1)
            if path.hasPrefix(".") { enumerator?.skipDescendants(); continue }
            guard url.pathExtension == "sql", let range = path.range(of: "/SQL/") else { continue }
            let rest = path[range.upperBound...].split(separator: "/")
            guard rest.count == 2 else { continue }
            found.append((String(path[..<range.lowerBound]), String(rest[0]), String(rest[1]), try String(contentsOf: url, encoding: .utf8)))
        }
        return found
    }

    /// The names of the functions a text creates.
    static func definedFunctions(_ sql: String) -> [String] {
        let pattern = /(?i)CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(\w+)/
        return sql.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
            .compactMap { line in line.firstMatch(of: pattern).map { String($0.1) } }
    }

    @Test("every function file defines one function, named as the file, and no function is defined in two files")
    func oneDefinitionEach() throws {
        let functions = try Self.files().filter { $0.kind == "functions" }
        #expect(functions.count > 20)
        var seen: [String: String] = [:]
        for file in functions {
            let stem = String(file.name.dropLast(".sql".count))
            let name = SQLFunction(file: stem, sql: "").name
            #expect(Self.definedFunctions(file.text) == [name], "\(file.owner)/SQL/functions/\(file.name)")
            if let other = seen[name] { Issue.record("\(name) is defined in \(other) and \(file.owner)") }
            seen[name] = file.owner
        }
    }

    @Test("migrations after the move to function files define no function, and none defines one a function file does")
    func migrationsDefineNone() throws {
        let inFunctionFiles = Set(try Self.files().filter { $0.kind == "functions" }.flatMap { Self.definedFunctions($0.text) })
        for file in try Self.files() where file.kind == "migrations" {
            let repeated = Set(Self.definedFunctions(file.text)).intersection(inFunctionFiles)
            #expect(repeated.isEmpty, "\(file.owner)/SQL/migrations/\(file.name) defines \(repeated.sorted()) again")
            let version = Int(file.name.prefix { $0.isNumber }) ?? 0
            guard version > Self.historical[file.owner, default: 0] else { continue }
            #expect(Self.definedFunctions(file.text).isEmpty, "\(file.owner)/SQL/migrations/\(file.name) defines a function; put it in SQL/functions")
        }
    }

    @Test("a migration file's name gives its version and name; its text is the file without its last line break")
    func parsing() {
        let files = SQLFiles([
            ("migrations/101_second_step.sql", "SELECT 2;\n"), ("migrations/100_first_step.sql", "SELECT 1;\n"),
            ("functions/01_later.sql", "x\n"), ("functions/00_sooner.sql", "y\n"),
        ])
        #expect(files.migrations.map(\.version) == [100, 101])
        #expect(files.migrations.map(\.name) == ["first step", "second step"])
        #expect(files.migrations.first?.sql == "SELECT 1;")
        #expect(files.functions.map(\.name) == ["sooner", "later"])
    }
}
