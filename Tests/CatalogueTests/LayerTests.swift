import Catalogue
import Foundation
import Testing

/// Where a rule goes (the README's "One anatomy"): routes read requests and write responses; the
/// folders beneath them (stores, models, validation, event handlers) take typed values and throw
/// the service's own error, which one file in Routes/ maps to a problem document.
@Suite("Layers of a service")
struct LayerTests {
    static let root = CatalogueTests.root
    /// What belongs to HTTP: a store that names one of these reads a request or answers one.
    static let httpWords = [
        "import Hummingbird", "import HTTPTypes", "Problem", "Request", "Response", "QueryReader", "HTTPError", "HTTPResponse", "statusCode",
        "Cursor\\(token",
    ]

    /// Swift files under a service's Library/ but outside Routes/ and the composition root
    /// (the files directly in Library/).
    static func innerFiles(of folder: String) throws -> [String] {
        let library = root.appendingPathComponent("Services/\(folder)/Library")
        guard let walk = FileManager.default.enumerator(atPath: library.path) else { return [] }
        return walk.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && $0.contains("/") && !$0.hasPrefix("Routes/") }
            .map { library.appendingPathComponent($0).path }
    }

    static func code(_ path: String) throws -> String {
        withoutComments(try String(contentsOfFile: path, encoding: .utf8))
    }

    /// Code without its comments, so a comment may still say what a route does.
    static func withoutComments(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line) }
            .joined(separator: "\n")
    }

    static func names(_ word: String, in code: String) -> Bool {
        code.range(of: "(?<![A-Za-z0-9_])\(word)(?![A-Za-z0-9_])", options: .regularExpression) != nil
    }

    @Test("stores, models and handlers of every service take no request, answer no response and throw no problem document")
    func innerLayersKnowNoHTTP() throws {
        var checked = 0
        for entry in ServiceCatalogue.all where entry.role != .gateway {
            for path in try Self.innerFiles(of: entry.folder) {
                let code = try Self.code(path)
                for word in Self.httpWords where Self.names(word, in: code) {
                    Issue.record("\(path) names \(word): that belongs in Routes/")
                }
                checked += 1
            }
        }
        #expect(checked >= 50, "the walk found the services' files")
    }

    @Test("a service with routes has its own error type and one mapping of it to problem documents")
    func oneErrorMapping() throws {
        for entry in ServiceCatalogue.all where entry.role != .gateway {
            let library = Self.root.appendingPathComponent("Services/\(entry.folder)/Library")
            guard FileManager.default.fileExists(atPath: library.appendingPathComponent("Routes").path) else { continue }
            let error = "\(entry.folder)Error"
            #expect(FileManager.default.fileExists(atPath: library.appendingPathComponent("Model/\(error).swift").path), "\(error)")
            let mapping = try Self.code(library.appendingPathComponent("Routes/\(error)+Problem.swift").path)
            #expect(mapping.contains("extension \(error): ServiceError"), "\(entry.folder)")
        }
    }

    @Test("the check finds a store that reads a request, and leaves a comment that names one alone")
    func checkFindsFault() {
        #expect(Self.names("Request", in: "func list(_ request: Request) async throws -> RawPage"))
        #expect(!Self.names("Request", in: "func page(_ page: PageRequest) -> RawPage"))
        #expect(!Self.names("Problem", in: Self.withoutComments("let x = 1 // a Problem here is words\n/// and a Response")))
        #expect(Self.names("Problem", in: Self.withoutComments("// a comment\nthrow Problem.notFound(what)")))
    }
}
