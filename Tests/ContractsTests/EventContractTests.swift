import APISources
import Catalogue
import Contracts
import Foundation
import Testing

/// Each service's AsyncAPI file against the event types its code declares, the golden fixtures
/// (Tests/ContractsTests/Fixtures) and the schemas of its OpenAPI file.
@Suite("Event contracts")
struct EventContractTests {
    static let source = APISource(
        root: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    )
    static let fixtures = "Tests/ContractsTests/Fixtures"

    /// What each service that publishes declares in Shared/Contracts.
    static let declared: [String: [String]] = [
        "Contacts": ContactEvents.published,
        "Sales": SalesEvents.published,
        "Gateway": IdentityEvents.published,
        "ERPBridge": ERPEvents.published,
    ]

    /// `address → message reference` of an AsyncAPI file's event channels (on `crm.events`), or,
    /// with `outside`, of the channels an outside system uses (`x-exchange`: the ERP bridge's
    /// `{source}.order` on `erp.inbound`…), by channel name.
    static func channels(_ folder: String, outside: Bool = false) throws -> [String: String] {
        let document = try source.load(APISource.asyncAPI(folder))
        var channels: [String: String] = [:]
        for (name, value) in document["channels"] as? [String: Any] ?? [:] {
            let channel = try #require(value as? [String: Any], "\(name)")
            guard (channel["x-exchange"] != nil) == outside else { continue }
            let address = try #require(channel["address"] as? String, "\(name) has no address")
            let messages = try #require(channel["messages"] as? [String: Any], "\(name) has no messages")
            #expect(messages.count == 1, "\(name): one message per channel")
            let message = try #require(messages.values.first as? [String: Any])
            channels[outside ? name : address] = try #require(message["$ref"] as? String, "\(name)'s message is not a reference")
        }
        return channels
    }

    @Test("the service folders that publish are the ones with an AsyncAPI file")
    func publishers() {
        let withFile = ServiceCatalogue.all.map(\.folder).filter { Self.source.exists(APISource.asyncAPI($0)) }
        #expect(Set(withFile) == Set(Self.declared.keys))
    }

    @Test("each AsyncAPI file's channels are the event types its service declares, with a send operation each")
    func channelsMatchDeclarations() throws {
        for (folder, types) in Self.declared {
            #expect(Set(types).count == types.count, "\(folder) declares a type twice")
            #expect(try Set(Self.channels(folder).keys) == Set(types), "\(folder)")
            let document = try Self.source.load(APISource.asyncAPI(folder))
            let sent = (document["operations"] as? [String: Any] ?? [:]).values.compactMap { operation -> String? in
                guard let operation = operation as? [String: Any], operation["action"] as? String == "send" else { return nil }
                return (operation["channel"] as? [String: Any])?["$ref"] as? String
            }
            let channelNames = (document["channels"] as? [String: Any] ?? [:]).filter { ($0.value as? [String: Any])?["x-exchange"] == nil }
                .keys.map { "#/channels/\($0)" }
            #expect(Set(sent).intersection(channelNames) == Set(channelNames), "\(folder): every channel is sent, once")
            #expect(sent.filter(channelNames.contains).count == channelNames.count, "\(folder)")
        }
    }

    @Test("there is a golden fixture for every event type, and none for a type nobody declares")
    func fixturesMatchDeclarations() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.source.root.appendingPathComponent(Self.fixtures).path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(".json".count)) }
        #expect(Set(files) == Set(Self.declared.values.joined()))
    }

    @Test("every $ref of the contract files names something: a file that exists and a place in it")
    func referencesResolve() throws {
        var files = [APISource.common]
        for folder in ServiceCatalogue.all.map(\.folder) {
            files += [APISource.openAPI(folder), APISource.asyncAPI(folder)].filter(Self.source.exists)
        }
        #expect(files.count >= 6)
        for file in files {
            #expect(try Self.source.unresolvedReferences(in: Self.source.load(file), of: file) == [], "\(file)")
        }
    }

    @Test("the AsyncAPI files describe documents by the OpenAPI files' schemas, never a copy of their own")
    func schemasShared() throws {
        for folder in Self.declared.keys {
            let events = try Self.source.load(APISource.asyncAPI(folder))
            let api = try Self.source.load(APISource.openAPI(folder))
            let eventSchemas = ((events["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
            let apiSchemas = ((api["components"] as? [String: Any])?["schemas"] as? [String: Any]) ?? [:]
            var shared = 0
            for (name, schema) in eventSchemas where apiSchemas[name] != nil {
                #expect((schema as? [String: Any])?.keys.sorted() == ["$ref"], "\(folder): \(name) is a copy")
                #expect((schema as? [String: Any])?["$ref"] as? String == "./openapi.yaml#/components/schemas/\(name)", "\(folder): \(name)")
                shared += 1
            }
            #expect(shared >= 2, "\(folder)")
        }
    }

    @Test("each golden fixture conforms to its channel's message payload")
    func fixturesConform() throws {
        var check = SchemaCheck(Self.source)
        var checked = 0
        for folder in Self.declared.keys {
            let file = APISource.asyncAPI(folder)
            for (type, message) in try Self.channels(folder) {
                let fixture = try Self.source.load("\(Self.fixtures)/\(type).json")
                #expect(fixture["type"] as? String == type)
                let violations = try check.violations(of: fixture, against: "\(file)\(message)/payload")
                #expect(violations == [], "\(type)")
                checked += 1
            }
        }
        #expect(checked == Self.declared.values.joined().count)
    }

    @Test("each message an ERP sends or receives has a golden fixture that conforms to its payload")
    func outsideFixturesConform() throws {
        var check = SchemaCheck(Self.source)
        let file = APISource.asyncAPI("ERPBridge")
        let channels = try Self.channels("ERPBridge", outside: true)
        #expect(Set(channels.keys) == ["order", "customerAck", "control", "acknowledgement", "customer", "orderRequest", "reconciliation"])
        for (name, message) in channels {
            let fixture = try Self.source.load("\(Self.fixtures)/erp/\(name).json")
            #expect(try check.violations(of: fixture, against: "\(file)\(message)/payload") == [], "\(name)")
        }
    }

    @Test("the schema check finds what it is for: a missing member, a wrong type, a value outside an enum")
    func schemaCheckFindsFaults() throws {
        var check = SchemaCheck(Self.source)
        var fixture = try Self.source.load("\(Self.fixtures)/sales.deal.won.json")
        var data = try #require(fixture["data"] as? [String: Any])
        data["status"] = "maybe"
        data["title"] = 42
        data.removeValue(forKey: "id")
        fixture["data"] = data
        let found = try check.violations(of: fixture, against: "\(APISource.asyncAPI("Sales"))#/components/messages/dealWon/payload")
        #expect(found.contains { $0.hasPrefix("$.data: lacks id") })
        #expect(found.contains { $0.hasPrefix("$.data.title: 42 is not string") })
        #expect(found.contains { $0.hasPrefix("$.data.status: 'maybe' is not one of") })
    }
}
