import APISources
import Catalogue
import Foundation
import Testing

/// What every operation shares is written once, in Services/common.openapi.yaml, and referenced:
/// a service's own copy of a shared parameter drifts from it (the If-Match copies had).
@Suite("Shared parts of the API contracts")
struct SharedPartsTests {
    @Test("no service's openapi.yaml writes a parameter of its own that the common file defines")
    func parametersReferenced() throws {
        let source = EventContractTests.source
        let common = try #require(
            (try source.load(APISource.common)["components"] as? [String: Any])?["parameters"] as? [String: [String: Any]]
        )
        let shared = Set(common.values.compactMap { "\($0["in"] ?? "") \($0["name"] ?? "")" })
        #expect(shared.contains("header If-Match") && shared.contains("header Idempotency-Key"))
        var checked = 0
        for folder in ServiceCatalogue.all.map(\.folder) where source.exists(APISource.openAPI(folder)) {
            let paths = try source.load(APISource.openAPI(folder))["paths"] as? [String: [String: Any]] ?? [:]
            for (path, item) in paths {
                for (method, value) in item {
                    for parameter in (value as? [String: Any])?["parameters"] as? [[String: Any]] ?? [] where parameter["$ref"] == nil {
                        let key = "\(parameter["in"] ?? "") \(parameter["name"] ?? "")"
                        #expect(!shared.contains(key), "\(folder): \(method) \(path) writes \(key) again")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked >= 20, "the walk found the services' own parameters")
    }
}
