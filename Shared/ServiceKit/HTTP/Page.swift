import Foundation
import Hummingbird
import Messaging

/// A page of a list (DESIGN.md §7): `{"items": [...], "next_cursor": "..." | null}`, from items
/// that are already JSON text (the documents PostgreSQL builds), so they are not decoded and
/// encoded again on the way out.
public struct RawPage: Sendable {
    public var items: [String]
    public var nextCursor: String?

    public init(items: [String], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    public var json: String {
        let cursor = nextCursor.map { "\"\($0)\"" } ?? "null"  // base64url: nothing to escape
        return "{\"items\":[" + items.joined(separator: ",") + "],\"next_cursor\":" + cursor + "}"
    }

    public func response() -> Response {
        APICoding.rawResponse(json)
    }
}

/// Which page of a keyset-paged list a store is asked for: how many items, after which position.
public struct PageRequest: Sendable {
    public var limit: Int
    public var cursor: Cursor?

    public init(limit: Int = 50, cursor: Cursor? = nil) {
        self.limit = limit
        self.cursor = cursor
    }
}

/// A keyset position: the sort values of the last row a page returned. Opaque to clients
/// (base64url of a JSON array of strings), never an offset.
public struct Cursor: Sendable, Equatable {
    public var values: [String]

    /// What a position value must be, checked before it reaches SQL (where a bad cast is a 500).
    public enum Kind: Sendable {
        case text, uuid, timestamp

        func accepts(_ value: String) -> Bool {
            switch self {
            case .text: !value.unicodeScalars.contains("\u{0}")
            case .uuid: UUID(uuidString: value) != nil
            case .timestamp: EventCoding.parseTimestamp(value) != nil
            }
        }
    }

    public init(_ values: [String]) { self.values = values }

    public var token: String {
        let json = (try? JSONEncoder().encode(values)) ?? Data("[]".utf8)
        return json.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public init(token: String, kinds: [Kind]) throws(Problem) {
        guard let cursor = Self.read(token, kinds: kinds) else {
            throw Problem.badRequest("the cursor is not one this list gave out", field: "cursor")
        }
        self = cursor
    }

    /// The position a token holds, when it is one of a list of `kinds`.
    public static func read(_ token: String, kinds: [Kind]) -> Cursor? {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let values = try? JSONDecoder().decode([String].self, from: data),
            values.count == kinds.count, zip(kinds, values).allSatisfy({ $0.accepts($1) })
        else { return nil }
        return Cursor(values)
    }
}

/// The query parameters of a list request, read with field-named errors.
public struct QueryReader: Sendable {
    public let parameters: Parameters
    public private(set) var errors: [FieldError] = []

    public init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    public func string(_ name: String) -> String? {
        parameters[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }

    public mutating func uuid(_ name: String) -> UUID? {
        guard let text = string(name) else { return nil }
        guard let value = UUID(uuidString: text) else {
            errors.append(FieldError(name, "must be a UUID"))
            return nil
        }
        return value
    }

    public mutating func date(_ name: String) -> Date? {
        guard let text = string(name) else { return nil }
        guard let value = EventCoding.parseTimestamp(text) else {
            errors.append(FieldError(name, "must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z"))
            return nil
        }
        return value
    }

    public mutating func oneOf<E: RawRepresentable<String> & CaseIterable>(_ name: String, _ type: E.Type) -> E? {
        guard let text = string(name) else { return nil }
        guard let value = E(rawValue: text) else {
            errors.append(FieldError(name, "'\(text)' is not one of: \(E.allCases.map(\.rawValue).joined(separator: ", "))"))
            return nil
        }
        return value
    }

    /// One value or several, comma-separated (`status=new,contacted`): OpenAPI's form style
    /// without explode. Nil when the parameter is absent.
    public mutating func anyOf<E: RawRepresentable<String> & CaseIterable>(_ name: String, _ type: E.Type) -> [E]? {
        guard let text = string(name) else { return nil }
        var values: [E] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let value = E(rawValue: String(part)) else {
                errors.append(FieldError(name, "'\(part)' is not one of: \(E.allCases.map(\.rawValue).joined(separator: ", "))"))
                return nil
            }
            if !values.contains(where: { $0.rawValue == value.rawValue }) { values.append(value) }
        }
        return values
    }

    public mutating func limit(default value: Int = 50, maximum: Int = 200) -> Int {
        guard let text = string("limit") else { return value }
        guard let limit = Int(text), (1...maximum).contains(limit) else {
            errors.append(FieldError("limit", "must be a whole number from 1 to \(maximum)"))
            return value
        }
        return limit
    }

    public mutating func cursor(_ kinds: [Cursor.Kind]) -> Cursor? {
        guard let text = string("cursor") else { return nil }
        do {
            return try Cursor(token: text, kinds: kinds)
        } catch {
            errors.append(FieldError("cursor", "is not a cursor this list gave out"))
            return nil
        }
    }

    /// The page a list without filters of its own is asked for.
    public static func page(of request: Request, _ kinds: [Cursor.Kind], maximum: Int = 200) throws(Problem) -> PageRequest {
        var query = QueryReader(request)
        let page = query.page(kinds, maximum: maximum)
        try query.check()
        return page
    }

    /// `limit` and `cursor`, the cursor's values of `kinds`.
    public mutating func page(_ kinds: [Cursor.Kind], default value: Int = 50, maximum: Int = 200) -> PageRequest {
        let limit = limit(default: value, maximum: maximum)
        return PageRequest(limit: limit, cursor: cursor(kinds))
    }

    public mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// Throws the collected errors, if any, as one 400 problem.
    public func check() throws(Problem) {
        guard errors.isEmpty else {
            var problem = Problem.validation(errors)
            problem.statusCode = 400
            problem.title = "The query has invalid parameters"
            throw problem
        }
    }
}
