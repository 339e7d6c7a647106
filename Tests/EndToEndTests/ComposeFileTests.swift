import Foundation
import Testing
import TestSupport

/// compose.yaml carries what the code derives, and only the gateway's port.
@Suite("compose.yaml matches the code", .timeLimit(.minutes(1)))
struct ComposeFileTests {
    static let composeFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("compose/compose.yaml")

    @Test("its RabbitMQ definitions are what `switchboard broker definitions --compose` prints")
    func brokerDefinitions() throws {
        let lines = try String(contentsOf: Self.composeFile, encoding: .utf8).components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "  rabbitmq-definitions:"), "compose.yaml has the rabbitmq-definitions config")
        #expect(lines[start + 1] == "    content: |")
        let block = lines[(start + 2)...].prefix { $0.hasPrefix("      ") || $0.isEmpty }.map { String($0.dropFirst(6)) }
        let generated = try ServiceProcessTests.switchboard(["broker", "definitions", "--compose"])
        #expect(block.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) == generated.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("only the gateway publishes a port")
    func publishedPorts() throws {
        var service = ""
        var published: [String] = []
        for line in try String(contentsOf: Self.composeFile, encoding: .utf8).components(separatedBy: "\n") {
            if line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":") { service = String(line.dropFirst(2).dropLast()) }
            if line.trimmingCharacters(in: .whitespaces) == "ports:" { published.append(service) }
        }
        #expect(published == ["gateway"])
    }
}
