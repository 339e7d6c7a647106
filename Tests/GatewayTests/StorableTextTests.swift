import Foundation
@testable import GatewayService
import HTTPTypes
import Testing
import TestSupport

/// NUL (U+0000), which PostgreSQL stores in neither text nor jsonb, in every query parameter and
/// every string field of every body the API describes: a 422 naming the field, from the gateway
/// and from the service that owns the route alike. The cases come from the OpenAPI document, so a
/// new parameter or field is covered the day it is documented.
@Suite("NUL in any parameter or field is a 422 naming it", .timeLimit(.minutes(5)))
struct StorableTextTests {
    let api = APIClient()
    static let nul = "a\u{0}b"

    struct Case: CustomStringConvertible {
        var method: String
        var path: String
        var query: String
        var body: Any?
        var field: String
        var description: String { "\(method) \(path)\(query) \(field)" }
    }

    /// Every documented operation of a service behind the gateway, with the service that owns it.
    func operations() throws -> [(method: String, path: String, upstream: String, operation: [String: Any], document: [String: Any])] {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(PackageResources.openapi_json)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var upstreams: [String: String] = [:]
        for route in ProxiedRoute.all {
            let path = route.path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            upstreams["\(route.method.rawValue.lowercased()) /\(path)"] = route.upstream
        }
        var found: [(String, String, String, [String: Any], [String: Any])] = []
        for (path, methods) in paths {
            for (method, value) in methods {
                guard let operation = value as? [String: Any], let upstream = upstreams["\(method) \(path)"] else { continue }
                found.append((method.uppercased(), path, upstream, operation, document))
            }
        }
        return found.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    /// The path with a value for each of its parameters.
    func concrete(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            guard segment.hasPrefix("{") else { return String(segment) }
            return segment == "{code}" ? "price" : UUID().uuidString.lowercased()
        }.joined(separator: "/")
    }

    func resolve(_ schema: [String: Any], in document: [String: Any]) -> [String: Any] {
        guard let reference = schema["$ref"] as? String else { return schema }
        var node: Any = document
        for part in reference.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] ?? [:] }
        return resolve(node as? [String: Any] ?? [:], in: document)
    }

    /// One body per string field reachable in `schema`: the least JSON that holds NUL in that
    /// field alone, with the field's path as the API names it (`emails[0].address`).
    func nulBodies(_ schema: [String: Any], prefix: String, document: [String: Any], depth: Int = 0) -> [(field: String, body: Any)] {
        guard depth < 6 else { return [] }
        let schema = resolve(schema, in: document)
        var found: [(String, Any)] = []
        for key in ["allOf", "oneOf", "anyOf"] {
            for part in schema[key] as? [[String: Any]] ?? [] { found += nulBodies(part, prefix: prefix, document: document, depth: depth + 1) }
        }
        let types = (schema["type"] as? [String]) ?? (schema["type"] as? String).map { [$0] } ?? []
        func member(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }
        if types.contains("string"), !prefix.isEmpty { found.append((prefix, Self.nul)) }
        if types.contains("object") || schema["properties"] != nil {
            for (name, property) in schema["properties"] as? [String: [String: Any]] ?? [:] {
                found += nulBodies(property, prefix: member(name), document: document, depth: depth + 1).map { ($0.field, [name: $0.body]) }
            }
            if let extra = schema["additionalProperties"] {
                let any: [String: Any] = ["type": "string"]
                let values = (extra as? [String: Any]).map { nulBodies($0, prefix: member("x"), document: document, depth: depth + 1) }
                    ?? (extra as? Bool == true ? nulBodies(any, prefix: member("x"), document: document, depth: depth + 1) : [])
                found += values.map { ($0.field, ["x": $0.body]) }
            }
        }
        if types.contains("array"), let items = schema["items"] as? [String: Any] {
            found += nulBodies(items, prefix: "\(prefix)[0]", document: document, depth: depth + 1).map { ($0.field, [$0.body]) }
        }
        return found
    }

    func cases() throws -> [(upstream: String, case: Case)] {
        var cases: [(String, Case)] = []
        for (method, path, upstream, operation, document) in try operations() {
            for parameter in operation["parameters"] as? [[String: Any]] ?? [] where parameter["in"] as? String == "query" {
                let name = try #require(parameter["name"] as? String)
                cases.append((upstream, Case(method: method, path: concrete(path), query: "?\(name)=a%00b", body: nil, field: name)))
            }
            let content = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any]
            guard let schema = (content?["application/json"] as? [String: Any])?["schema"] as? [String: Any] else { continue }
            for (field, body) in nulBodies(schema, prefix: "", document: document) {
                cases.append((upstream, Case(method: method, path: concrete(path), query: "", body: body, field: field)))
            }
        }
        return cases
    }

    func fields(of answer: APIClient.Answer) -> [String] {
        (answer.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
    }

    @Test("through the gateway and straight to the service: 422 naming the parameter or field")
    func everyParameterAndField() async throws {
        let cases = try cases()
        #expect(cases.count > 200, "the document names many parameters and fields: \(cases.count)")
        #expect(Set(cases.map(\.upstream)) == ["contacts", "sales", "erp_bridge"])
        for (upstream, test) in cases {
            let body = try test.body.map { try JSONSerialization.data(withJSONObject: $0) }
            let headers = ["If-Match": "\"1\"", "Content-Type": "application/json"]
            let viaGateway = try await api.send(test.method, test.path + test.query, body: body, headers: headers)
            #expect(viaGateway.status == 422 && fields(of: viaGateway).contains(test.field), "gateway, \(test): \(viaGateway.status) \(viaGateway.text)")
            let direct = try await LocalStack.call(upstream, test.method, test.path + test.query, body: body, headers: headers)
            #expect(direct.status == 422 && fields(of: direct).contains(test.field), "\(upstream), \(test): \(direct.status) \(direct.text)")
        }
    }
}
