import Catalogue
import Foundation

/// One OpenAPI document of the sources: the common components and each service's paths and
/// components, every `$ref` into another file made local. An operation of a service the gateway
/// routes to gets `x-upstream` (its service), and its description begins with the roles its
/// `x-permission` lets in; an operation marked `x-internal` (a read only the gateway makes) is
/// left out.
public enum OpenAPIBundle {
    /// Where the bundle is, relative to the repository's root (the gateway embeds it).
    public static let output = "Services/Gateway/Library/openapi.json"

    static let roles = [
        "read": "Roles: any key.", "write-customers": "Roles: admin, sales, support, marketing.", "write-sales": "Roles: admin, sales.",
        "admin": "Roles: admin.",
    ]

    public static func make(_ source: APISource) throws -> Data {
        var components: [String: [String: Any]] = [:]
        var paths: [String: [String: Any]] = [:]
        var document: [String: Any] = ["openapi": "3.1.0"]

        func merge(_ spec: [String: Any], from file: String) throws {
            for (kind, entries) in spec["components"] as? [String: Any] ?? [:] {
                for (name, value) in entries as? [String: Any] ?? [:] {
                    guard components[kind]?[name] == nil else { throw APISourceError("\(file): components.\(kind).\(name) is defined twice") }
                    components[kind, default: [:]][name] = localRefs(value)
                }
            }
        }

        try merge(try source.load(APISource.common), from: APISource.common)
        for service in ServiceCatalogue.all {
            let file = APISource.openAPI(service.folder)
            guard source.exists(file) else { continue }
            let spec = try source.load(file)
            if service.role == .gateway {
                for key in ["info", "servers", "security"] { document[key] = spec[key] }
            }
            try merge(spec, from: file)
            for (path, item) in spec["paths"] as? [String: Any] ?? [:] {
                for (method, value) in item as? [String: Any] ?? [:] {
                    guard var operation = localRefs(value) as? [String: Any], operation["x-internal"] as? Bool != true else { continue }
                    guard let permission = operation["x-permission"] as? String else {
                        if path.hasSuffix("openapi.json") { paths[path, default: [:]][method] = operation }
                        else { throw APISourceError("\(file): \(method) \(path) names no x-permission") }
                        continue
                    }
                    guard let roles = roles[permission] else { throw APISourceError("\(file): \(method) \(path): unknown x-permission '\(permission)'") }
                    operation["description"] = [roles, operation["description"] as? String].compactMap { $0 }.joined(separator: " ")
                    if service.role != .gateway { operation["x-upstream"] = service.name }
                    guard paths[path]?[method] == nil else { throw APISourceError("\(method) \(path) is described twice") }
                    paths[path, default: [:]][method] = operation
                }
            }
        }
        document["paths"] = paths
        document["components"] = components
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)
    }

    /// Every `$ref` to a component of any file, as a reference within the one document.
    static func localRefs(_ value: Any) -> Any {
        switch value {
        case let object as [String: Any]:
            var result: [String: Any] = [:]
            for (key, member) in object {
                if key == "$ref", let reference = member as? String, let hash = reference.firstIndex(of: "#") {
                    result[key] = String(reference[hash...])
                } else {
                    result[key] = localRefs(member)
                }
            }
            return result
        case let array as [Any]:
            return array.map(localRefs)
        default:
            return value
        }
    }
}
