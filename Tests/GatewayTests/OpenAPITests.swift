import APISources
import Foundation
@testable import GatewayService
import HTTPTypes
import Testing
import TestSupport

@Suite("OpenAPI document")
struct OpenAPITests {
    static func bundle() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(PackageResources.openapi_json)) as? [String: Any])
    }

    @Test("the document the gateway embeds is what `switchboard openapi bundle` makes of the sources")
    func bundleIsFresh() throws {
        let made = try OpenAPIBundle.make(ServiceContract.source)
        #expect(Data(PackageResources.openapi_json) == made, "openapi.json is stale: run `switchboard openapi bundle`")
    }

    @Test("every API route the gateway registers is in the bundle, and the bundle names no route it lacks; the web app's pages stay outside /api")
    func routesMatchDocument() throws {
        let all = try ServiceContract.registeredOperations(GatewayService.definition)
        let registered = all.filter { $0.contains(" /api/") }
        #expect(all.subtracting(registered).contains("get /home"), "the pages are registered beside the API")
        let documented = APISource.operations(of: try Self.bundle())
        #expect(registered.count >= 60)
        #expect(registered.subtracting(documented).sorted() == [], "registered but undocumented")
        #expect(documented.subtracting(registered).sorted() == [], "documented but not registered")
    }

    @Test("the gateway's own routes are Services/Gateway/openapi.yaml's operations; the rest go upstream")
    func ownRoutes() throws {
        let own = Set(APIDescription.operations.filter { $0.upstream == nil }.map { "\($0.method.rawValue.lowercased()) \($0.path)" })
        #expect(own == (try ServiceContract.documentedOperations("Gateway")).subtracting(["get /api/v1/openapi.json"]))
        #expect(Set(ProxiedRoute.all.map(\.upstream)) == ["contacts", "sales", "erp_bridge"])
        #expect(ProxiedRoute.all.count + own.count + 1 == APISource.operations(of: try Self.bundle()).count)
    }

    @Test("every operation says who may call it; a wait, when one is written, is a positive number of seconds")
    func permissionsAndTimeouts() throws {
        let paths = try #require(try Self.bundle()["paths"] as? [String: [String: Any]])
        for (path, item) in paths {
            for (method, value) in item {
                let operation = try #require(value as? [String: Any])
                guard path != "/api/v1/openapi.json" else { continue }
                let permission = try #require(operation["x-permission"] as? String, "\(method) \(path)")
                #expect(Permission(documented: permission) != nil, "\(method) \(path): \(permission)")
                if let seconds = operation["x-timeout-seconds"] {
                    #expect((seconds as? Int ?? 0) > 0, "\(method) \(path)")
                }
            }
        }
    }

    @Test("the roles an operation's description names are the ones its permission lets in")
    func rolesDescribed() throws {
        let paths = try #require(try Self.bundle()["paths"] as? [String: [String: Any]])
        for (path, item) in paths {
            for (method, value) in item {
                let operation = try #require(value as? [String: Any])
                guard let permission = (operation["x-permission"] as? String).flatMap(Permission.init(documented:)) else { continue }
                let allowed = Role.allCases.filter(permission.allows).map(\.rawValue)
                let expected = allowed.count == Role.allCases.count ? "Roles: any key." : "Roles: \(allowed.joined(separator: ", "))."
                #expect((operation["description"] as? String)?.hasPrefix(expected) == true, "\(method) \(path): \(expected)")
            }
        }
    }

    /// Schemathesis found the first one missing: a client that reads the document must expect
    /// that the thing a path names can be gone.
    @Test("every operation on a path that names a thing documents its 404")
    func notFoundDocumented() throws {
        let paths = try #require(try Self.bundle()["paths"] as? [String: [String: Any]])
        for (path, item) in paths where path.contains("{") {
            for (method, value) in item {
                let responses = try #require((value as? [String: Any])?["responses"] as? [String: Any])
                #expect(responses["404"] != nil, "\(method) \(path)")
            }
        }
    }

    @Test("the running gateway serves the document without a key")
    func served() async throws {
        let answer = try await APIClient(key: nil).get("/api/v1/openapi.json")
        #expect(answer.status == 200)
        #expect(answer.json["openapi"] as? String == "3.1.0")
        #expect(answer.json["paths"] as? [String: Any] != nil)
    }
}
