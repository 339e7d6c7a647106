import Foundation
import Testing
import TestSupport

/// compose.yaml carries the broker definitions the code derives (CatalogueTests check the rest).
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
}
