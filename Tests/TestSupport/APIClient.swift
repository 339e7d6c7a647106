import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The public API as an outside client sees it: the gateway `compose/local.sh test` started.
public struct APIClient: Sendable {
    public var baseURL: String
    public var key: String?

    public init(key: String? = APIClient.adminKey) {
        baseURL = ProcessInfo.processInfo.environment["SWITCHBOARD_GATEWAY_URL"] ?? "http://127.0.0.1:8080"
        self.key = key
    }

    public static var adminKey: String? { ProcessInfo.processInfo.environment["SWITCHBOARD_ADMIN_KEY"] }

    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON object (empty when it is not one).
        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        }
        public func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
        /// `items` of a list page.
        public var items: [[String: Any]] { json["items"] as? [[String: Any]] ?? [] }
    }

    /// Sends `json` (an object turned into JSON) or raw `body`.
    /// How a request travels when not over HTTP: a service driven in-process (`InProcessService`).
    public typealias Transport = @Sendable (_ method: String, _ path: String, _ headers: [String: String], _ body: Data?) async throws -> Answer
    public var transport: Transport?

    public func send(
        _ method: String, _ path: String, json: Any? = nil, body: Data? = nil, headers: [String: String] = [:]
    ) async throws -> Answer {
        var fields: [String: String] = [:]
        if let key { fields["Authorization"] = "Bearer \(key)" }
        var payload = body
        if let json {
            payload = try JSONSerialization.data(withJSONObject: json)
            fields["Content-Type"] = "application/json"
        }
        for (name, value) in headers { fields[name] = value }
        if let transport { return try await transport(method, path, fields, payload) }
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.timeoutInterval = 60
        request.httpBody = payload
        for (name, value) in fields { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var answered: [String: String] = [:]
        for (name, value) in http.allHeaderFields { answered["\(name)"] = "\(value)" }
        return Answer(status: http.statusCode, headers: answered, body: data)
    }

    public func get(_ path: String) async throws -> Answer { try await send("GET", path) }

    /// POST `<collection>/<id>/<action>` of a resource as last read, its version as If-Match.
    public func act(on collection: String, _ resource: [String: Any], _ action: String, _ body: [String: Any] = [:]) async throws -> Answer {
        guard let id = resource["id"] as? String, let version = resource["version"] as? Int else {
            throw TestFailure("no id and version to act on: \(resource)")
        }
        return try await send("POST", "\(collection)/\(id)/\(action)", json: body, headers: ["If-Match": "\"\(version)\""])
    }
    /// A new contact named `lastName`, with an e-mail of its own so that it is nobody's duplicate; its id.
    public func newContact(_ lastName: String) async throws -> String {
        let created = try await post("/api/v1/contacts", [
            "last_name": lastName, "emails": [["address": "\(TestEnvironment.uniqueName("contact"))@example.com"]],
        ])
        guard created.status == 201, let id = created.json["id"] as? String else {
            throw TestFailure("the contact was not created: \(created.status) \(created.text)")
        }
        return id
    }

    public func post(_ path: String, _ json: Any, headers: [String: String] = [:]) async throws -> Answer {
        try await send("POST", path, json: json, headers: headers)
    }
}
