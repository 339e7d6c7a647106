import Foundation
import Hummingbird
import Messaging

/// Text PostgreSQL cannot store: U+0000, which neither `text` nor `jsonb` accepts (every other
/// scalar a Swift string can hold is valid UTF-8, and so storable). Checked once, where a request
/// enters a service (`StorableTextMiddleware`): every query parameter and every JSON body, so no
/// store, filter or SQL function meets it.
public enum StorableText {
    static let message = "must not contain the NUL character (U+0000)"

    /// The JSON paths (`tags[1]`, `emails[0].address`) of the strings and member names in `json`
    /// that hold U+0000. JSON can carry it only escaped, so a body without the escape `\u0000`
    /// is passed after one scan of its bytes, without being parsed.
    public static func nulFields(inJSON json: Data) -> [String] {
        guard json.range(of: Data(#"\u0000"#.utf8)) != nil,
            let value = try? APICoding.decoder.decode(JSONValue.self, from: json)
        else { return [] }
        var fields: [String] = []
        collect(value, path: "", into: &fields)
        return fields
    }

    private static func collect(_ value: JSONValue, path: String, into fields: inout [String]) {
        switch value {
        case let .string(text) where text.unicodeScalars.contains("\0"):
            fields.append(path.isEmpty ? "body" : path)
        case let .array(items):
            for (index, item) in items.enumerated() { collect(item, path: "\(path)[\(index)]", into: &fields) }
        case let .object(members):
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                let memberPath = path.isEmpty ? name : "\(path).\(name)"
                if name.unicodeScalars.contains("\0") {
                    fields.append(memberPath.replacingOccurrences(of: "\0", with: #"\u0000"#))
                } else {
                    collect(member, path: memberPath, into: &fields)
                }
            }
        default:
            break
        }
    }

    /// A 422 naming each field, when there are any.
    static func check(_ fields: [String]) throws(Problem) {
        guard !fields.isEmpty else { return }
        throw Problem.validation(fields.map { FieldError($0, message) })
    }
}

/// Refuses a request whose query parameters (names or values, once percent-decoded) or JSON body
/// hold text PostgreSQL cannot store, with a 422 naming each field, before any route sees it. The
/// JSON body is read here, once, within its limits (and handed on as read), so the answer is the
/// same whichever check a route would have made first.
public struct StorableTextMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var fields: [String] = []
        for (name, value) in request.uri.queryParameters {
            if name.unicodeScalars.contains("\0") || value.unicodeScalars.contains("\0") {
                fields.append(String(name).replacingOccurrences(of: "\0", with: #"\u0000"#))
            }
        }
        try StorableText.check(fields)
        guard let type = request.headers[.contentType]?.lowercased(),
            type.hasPrefix("application/json") || type.hasPrefix("application/merge-patch+json")
        else { return try await next(request, context) }
        let body = try await request.bodyWithinLimits(maximum: APICoding.maximumBodySize)
        try StorableText.check(StorableText.nulFields(inJSON: Data(body.readableBytesView)))
        var read = request
        read.body = .init(buffer: body)
        return try await next(read, context)
    }
}
