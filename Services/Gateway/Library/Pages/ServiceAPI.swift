import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import NIOCore
import NIOHTTP1
import ServiceKit

/// The pages' one way into the services: a route of the public API, called as the signed-in user,
/// allowed by the same permission the API checks. The pages keep no rules of their own.
struct ServiceAPI: Sendable {
    let upstreams: [String: Upstream]
    var timeout: Duration = .seconds(10)

    /// A service's answer to a page.
    struct Answer: Sendable {
        var status: Int
        var json: JSONValue
        var etag: String?

        var ok: Bool { (200..<300).contains(status) }

        /// The problem's field errors, by field, and its detail: what a form shows next to its fields.
        var fieldErrors: [String: String] {
            var errors: [String: String] = [:]
            for case let .object(error) in json["errors"]?.array ?? [] {
                if let field = error["field"]?.string, let message = error["message"]?.string, errors[field] == nil { errors[field] = message }
            }
            return errors
        }

        var detail: String { json["detail"]?.string ?? json["title"]?.string ?? "the request failed (\(status))" }

        /// A refusal in one sentence for the page: the first field the service named with its
        /// message, else the detail; a stale version is someone else's change, not the user's error.
        var message: String {
            if status == 412 {
                return "Someone else changed this meanwhile; what you see now is the current state. Check it and try again."
            }
            return fieldErrors.map { "\($0.key): \($0.value)" }.sorted().first ?? detail
        }
    }

    /// Calls `method path` (as the API's description writes it, with `{id}`s filled from `parameters`)
    /// with a query and a JSON body. A 4xx is an answer for the page to show; a 5xx is thrown.
    func call(
        _ method: HTTPRequest.Method, _ path: String, _ parameters: [String: String] = [:], query: [(String, String?)] = [],
        body: JSONValue? = nil, ifMatch: String? = nil, as caller: Caller
    ) async throws -> Answer {
        try await exchange(
            method, path, parameters, query: query, body: try body.map { (try APICoding.encoder.encode($0), "application/json") },
            ifMatch: ifMatch, as: caller
        )
    }

    /// Sends a file (an import's CSV) as the body of `POST path`.
    func upload(_ path: String, query: [(String, String?)], bytes: [UInt8], contentType: String, as caller: Caller) async throws -> Answer {
        try await exchange(.post, path, [:], query: query, body: (Data(bytes), contentType), ifMatch: nil, as: caller)
    }

    /// A GET whose answer (an export, an error report) streams on to the browser as it comes.
    func stream(_ path: String, _ parameters: [String: String] = [:], query: [(String, String?)] = [], as caller: Caller) async throws -> Response {
        let (operation, upstream, concrete) = try route(.get, path, parameters, query: query, as: caller)
        let answer = try await upstream.send(
            HTTPClientRequest(url: upstream.baseURL + concrete), caller: caller, timeout: .seconds(operation.timeoutSeconds)
        )
        if answer.status.code == 404 { throw PageOutcome.notFound }
        guard answer.status.code < 300 else { throw Problem(answer.status, slug: "upstream-failed", detail: "the \(upstream.name) service answered \(answer.status.code)") }
        return answer.streamed
    }

    private func exchange(
        _ method: HTTPRequest.Method, _ path: String, _ parameters: [String: String], query: [(String, String?)],
        body: (bytes: Data, type: String)?, ifMatch: String?, as caller: Caller
    ) async throws -> Answer {
        let (operation, upstream, concrete) = try route(method, path, parameters, query: query, as: caller)
        var request = HTTPClientRequest(url: upstream.baseURL + concrete)
        request.method = .init(rawValue: method.rawValue)
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: body.type)
            request.body = .bytes(ByteBuffer(bytes: body.bytes))
        }
        if let ifMatch { request.headers.add(name: "If-Match", value: ifMatch) }
        let limit = max(timeout, .seconds(operation.timeoutSeconds))
        let answer = try await upstream.send(request, caller: caller, timeout: limit)
        let read = try await upstream.collect(answer, within: limit)
        guard read.status.code < 500 else {
            throw Problem(read.status, slug: "upstream-failed", detail: "the \(upstream.name) service answered \(read.status.code)")
        }
        let json = read.body.readableBytes == 0 ? JSONValue.null : try APICoding.decoder.decode(JSONValue.self, from: Data(read.body.readableBytesView))
        return Answer(status: read.status.code, json: json, etag: read.headers[.eTag])
    }

    /// The documented operation, its service, and the path with its parameters and query filled
    /// in; a role the operation does not allow is refused here, as the API refuses it.
    private func route(
        _ method: HTTPRequest.Method, _ path: String, _ parameters: [String: String], query: [(String, String?)], as caller: Caller
    ) throws -> (operation: APIDescription.Operation, upstream: Upstream, path: String) {
        guard let operation = APIDescription.operations.first(where: { $0.method == method && $0.path == path }),
            let upstream = operation.upstream.flatMap({ upstreams[$0] })
        else { preconditionFailure("the API does not describe \(method) \(path) on a service") }
        guard operation.permission.allows(caller.role) else { throw PageOutcome.forbidden }
        var concrete = path
        for (name, value) in parameters {
            concrete = concrete.replacingOccurrences(of: "{\(name)}", with: Self.segment(value))
        }
        let items = query.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        if !items.isEmpty {
            var components = URLComponents()
            components.queryItems = items
            concrete += "?" + (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        }
        return (operation, upstream, concrete)
    }

    /// A path parameter as exactly one segment: a typed value with a slash or a dot-segment must
    /// not reach another operation than the one whose permission was checked.
    static func segment(_ value: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/")
        if value == "." || value == ".." { allowed.remove(".") }
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A GET of a text answer (a quote's printable HTML), which must succeed.
    func text(_ path: String, _ parameters: [String: String] = [:], as caller: Caller) async throws -> String {
        let (_, upstream, concrete) = try route(.get, path, parameters, query: [], as: caller)
        let answer = try await upstream.send(HTTPClientRequest(url: upstream.baseURL + concrete), caller: caller, timeout: timeout)
        let read = try await upstream.collect(answer, within: timeout)
        if read.status.code == 404 { throw PageOutcome.notFound }
        guard read.status.code < 300 else { throw Problem(read.status, slug: "upstream-failed", detail: "the \(upstream.name) service answered \(read.status.code)") }
        return String(buffer: read.body)
    }

    /// A GET that must succeed; a 404 is the page's not-found.
    func get(_ path: String, _ parameters: [String: String] = [:], query: [(String, String?)] = [], as caller: Caller) async throws -> JSONValue {
        let answer = try await call(.get, path, parameters, query: query, as: caller)
        if answer.status == 404 { throw PageOutcome.notFound }
        guard answer.ok else { throw Problem(.badRequest, slug: "bad-request", detail: answer.detail) }
        return answer.json
    }
}

/// How a page ends other than with its own answer.
enum PageOutcome: Error {
    case redirect(String)
    case forbidden
    case notFound
    case signInNeeded
}

extension JSONValue {
    subscript(_ member: String) -> JSONValue? {
        if case let .object(members) = self { return members[member] }
        return nil
    }

    var string: String? { if case let .string(text) = self { text } else { nil } }
    var array: [JSONValue]? { if case let .array(items) = self { items } else { nil } }
    var object: [String: JSONValue]? { if case let .object(members) = self { members } else { nil } }
    var number: Double? { if case let .number(value) = self { value } else { nil } }
    var bool: Bool? { if case let .bool(value) = self { value } else { nil } }

    /// The value as a template reads it: strings, numbers, booleans, lists and dictionaries;
    /// null and absent members are left out, so a section of them shows nothing.
    var template: Any? {
        switch self {
        case .null: nil
        case let .bool(value): value
        case let .number(value): value.rounded() == value && abs(value) < 1e15 ? Int64(value) as Any : value
        case let .string(value): value
        case let .array(items): items.compactMap(\.template)
        case let .object(members): members.compactMapValues(\.template)
        }
    }
}
