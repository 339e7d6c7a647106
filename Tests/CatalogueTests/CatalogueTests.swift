@testable import Catalogue
import Foundation
import Testing

/// Package.swift and compose.yaml keep their own lists of the services; these hold both to the
/// catalogue, so adding a row shows every place that has yet to learn of it.
@Suite("The service catalogue and its copies")
struct CatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func file(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test("the catalogue reads: unique names, executables and ports, one gateway, names fit for a schema")
    func wellFormed() {
        let all = ServiceCatalogue.all
        #expect(all.count >= 6)
        #expect(Set(all.map(\.name)).count == all.count)
        #expect(Set(all.map(\.executable)).count == all.count)
        #expect(Set(all.map(\.port)).count == all.count)
        #expect(all.filter { $0.role == .gateway }.map(\.name) == ["gateway"])
        #expect(all.last?.role == .gateway, "the gateway starts last, after the services it calls")
        for entry in all {
            #expect(entry.name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" }, "\(entry.name)")
            #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Services/\(entry.folder)/Library").path), "\(entry.folder)")
        }
    }

    @Test("every service folder has a row (the operator's command's folder aside)")
    func everyFolder() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Services").path)
            .filter { !$0.hasPrefix(".") && $0 != "Switchboard" && !$0.contains(".") }
        #expect(Set(folders) == Set(ServiceCatalogue.all.map(\.folder)))
    }

    @Test("Package.swift lists the same services, in the same order, as library, executable and folder")
    func packageManifest() throws {
        let manifest = try Self.file("Package.swift")
        let start = try #require(manifest.range(of: "let services: [(library: String, executable: String, folder: String)] = ["))
        let list = manifest[start.upperBound...].prefix { $0 != "]" }
        let rows = list.split(separator: "\n").compactMap { line -> [String]? in
            let quoted = line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            return quoted.count == 3 ? quoted : nil
        }
        #expect(rows == ServiceCatalogue.all.map { [$0.library, $0.executable, $0.folder] })
    }

    /// compose.yaml's block of one service: its lines from `  <name>:` to the next service.
    static func composeBlock(_ compose: String, _ service: String) -> [String] {
        let lines = compose.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "  \(service):") else { return [] }
        return Array(lines[(start + 1)...].prefix { $0.isEmpty || $0.hasPrefix("   ") })
    }

    @Test("compose.yaml runs each service under its name, port and logins; the gateway knows each URL; only the gateway is published")
    func composeFile() throws {
        let compose = try Self.file("compose/compose.yaml")
        for entry in ServiceCatalogue.all {
            let block = Self.composeBlock(compose, entry.executable).map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(!block.isEmpty, "compose.yaml has a service \(entry.executable)")
            for line in [
                "command: [\"\(entry.executable)\"]", "SWITCHBOARD_SERVICE: \(entry.name)", "SWITCHBOARD_HTTP_PORT: \"\(entry.port)\"",
                "SWITCHBOARD_PG_USER: \(entry.name)", "SWITCHBOARD_AMQP_USER: \(entry.name)",
            ] {
                #expect(block.contains(line), "\(entry.executable): \(line)")
            }
            #expect(block.contains("ports:") == (entry.role == .gateway), "\(entry.executable) is published only if it is the gateway")
        }
        let gateway = Self.composeBlock(compose, "gateway").map { $0.trimmingCharacters(in: .whitespaces) }
        for entry in ServiceCatalogue.all where entry.role != .gateway {
            #expect(gateway.contains("SWITCHBOARD_\(entry.variableStem)_URL: http://\(entry.executable):\(entry.port)"), "the gateway reaches \(entry.name)")
        }
        let roles = try #require(compose.components(separatedBy: "\n").first { $0.contains("for role in") })
        let listed = roles.components(separatedBy: "for role in ").last?.components(separatedBy: ";").first?.split(separator: " ").map(String.init)
        #expect(listed == ServiceCatalogue.all.map(\.name), "compose.yaml's database set-up makes a role and schema per service")
        let published = compose.components(separatedBy: "\n").filter { $0.trimmingCharacters(in: .whitespaces) == "ports:" }.count
        #expect(published == 1, "one service publishes a port")
    }
}
