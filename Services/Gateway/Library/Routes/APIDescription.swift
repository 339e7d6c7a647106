import Foundation
import HTTPTypes

/// The OpenAPI document the gateway serves (`openapi.json`, the bundle `switchboard openapi
/// bundle` makes of the services' sources), read once: its operations, with what the gateway
/// needs of each to serve it.
enum APIDescription {
    struct Operation: Sendable {
        var method: HTTPRequest.Method
        /// As the document writes it: `/api/v1/contacts/{id}`.
        var path: String
        var permission: Permission
        /// The service that answers it; nil for the gateway's own routes.
        var upstream: String?
        var timeoutSeconds: Int64
        var streamsBody: Bool
        var streamsAnswer: Bool

        /// As Hummingbird's router writes it: `/api/v1/contacts/:id`.
        var routerPath: String {
            path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
                segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : segment
            }.joined(separator: "/")
        }
    }

    static let operations: [Operation] = {
        guard let document = try? JSONSerialization.jsonObject(with: Data(PackageResources.openapi_json)) as? [String: Any] else {
            preconditionFailure("openapi.json is not a JSON object: run `switchboard openapi bundle`")
        }
        var operations: [Operation] = []
        for (path, item) in document["paths"] as? [String: [String: Any]] ?? [:] {
            for (method, value) in item {
                guard let operation = value as? [String: Any], let method = HTTPRequest.Method(method.uppercased()),
                    let permission = (operation["x-permission"] as? String).flatMap(Permission.init(documented:))
                else { continue }
                operations.append(Operation(
                    method: method, path: path, permission: permission, upstream: operation["x-upstream"] as? String,
                    timeoutSeconds: (operation["x-timeout-seconds"] as? NSNumber)?.int64Value ?? 15,
                    streamsBody: operation["x-body"] as? String == "stream", streamsAnswer: operation["x-answer"] as? String == "stream"
                ))
            }
        }
        return operations.sorted { ($0.path, $0.method.rawValue) < ($1.path, $1.method.rawValue) }
    }()

    /// Who may call one of the gateway's own routes, as the document says.
    static func permission(_ method: HTTPRequest.Method, _ routerPath: String) -> Permission {
        guard let operation = operations.first(where: { $0.method == method && $0.routerPath == routerPath }) else {
            preconditionFailure("openapi.json does not describe \(method) \(routerPath)")
        }
        return operation.permission
    }
}

extension Permission {
    /// `x-permission`'s words.
    init?(documented: String) {
        switch documented {
        case "read": self = .read
        case "write-customers": self = .writeCustomers
        case "write-sales": self = .writeSales
        case "admin": self = .admin
        default: return nil
        }
    }
}
