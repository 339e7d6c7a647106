import Foundation
import HTTPTypes
import Hummingbird
import Messaging

/// An RFC 9457 problem (DESIGN.md §7): what every failed request answers, as
/// `application/problem+json`. Thrown by handlers; `ProblemMiddleware` turns any other error into one.
public struct Problem: Error, HTTPResponseError, Sendable, Codable, CustomStringConvertible {
    /// `urn:switchboard:problem:<slug>`, or `about:blank` for a plain HTTP status.
    public var type: String
    public var title: String
    public var statusCode: Int
    public var detail: String?
    public var errors: [FieldError]
    /// Members beside the standard ones (`existing_contact`), flattened into the object.
    public var extensions: [String: JSONValue]
    /// Response headers beside the content type (`Retry-After`, `Content-Location`).
    public var headers: [String: String]

    public init(
        _ status: HTTPResponse.Status, slug: String? = nil, title: String? = nil, detail: String? = nil,
        errors: [FieldError] = [], extensions: [String: JSONValue] = [:], headers: [String: String] = [:]
    ) {
        type = slug.map { "urn:switchboard:problem:\($0)" } ?? "about:blank"
        self.title = title ?? status.reasonPhrase
        statusCode = status.code
        self.detail = detail
        self.errors = errors
        self.extensions = extensions
        self.headers = headers
    }

    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public var description: String {
        "\(statusCode) \(title)" + (detail.map { ": \($0)" } ?? "")
            + (errors.isEmpty ? "" : " " + FieldError.summary(errors))
    }

    public static let contentType = "application/problem+json"

    // MARK: The problems every service answers

    public static func validation(_ errors: [FieldError], detail: String? = nil) -> Problem {
        Problem(
            .unprocessableContent, slug: "validation", title: "The request has invalid fields",
            detail: detail ?? FieldError.summary(errors), errors: errors
        )
    }

    public static func badRequest(_ detail: String, field: String? = nil) -> Problem {
        Problem(
            .badRequest, slug: "bad-request", title: "The request cannot be read", detail: detail,
            errors: field.map { [FieldError($0, detail)] } ?? []
        )
    }

    public static func notFound(_ what: String) -> Problem {
        Problem(.notFound, slug: "not-found", title: "Not found", detail: CommonReasons.notFound(what))
    }

    public static func versionMismatch(expected: Int64, current: Int64) -> Problem {
        Problem(
            .preconditionFailed, slug: "version-mismatch", title: "The resource has changed",
            detail: CommonReasons.versionMismatch(expected: expected, current: current),
            extensions: ["current_version": .number(Double(current))]
        )
    }

    public static func conflict(_ slug: String, _ detail: String, extensions: [String: JSONValue] = [:]) -> Problem {
        Problem(.conflict, slug: slug, title: "Conflict", detail: detail, extensions: extensions)
    }

    // MARK: Coding

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let standardMembers: Set<String> = ["type", "title", "status", "detail", "errors"]

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(type, forKey: Key("type"))
        try container.encode(title, forKey: Key("title"))
        try container.encode(statusCode, forKey: Key("status"))
        try container.encodeIfPresent(detail, forKey: Key("detail"))
        if !errors.isEmpty { try container.encode(errors, forKey: Key("errors")) }
        for (name, value) in extensions where !Self.standardMembers.contains(name) {
            try container.encode(value, forKey: Key(name))
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        type = try container.decodeIfPresent(String.self, forKey: Key("type")) ?? "about:blank"
        statusCode = try container.decode(Int.self, forKey: Key("status"))
        title = try container.decodeIfPresent(String.self, forKey: Key("title")) ?? ""
        detail = try container.decodeIfPresent(String.self, forKey: Key("detail"))
        errors = try container.decodeIfPresent([FieldError].self, forKey: Key("errors")) ?? []
        var extensions: [String: JSONValue] = [:]
        for key in container.allKeys where !Self.standardMembers.contains(key.stringValue) {
            extensions[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        self.extensions = extensions
        headers = [:]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = HTTPFields()
        fields[.contentType] = Self.contentType
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try APICoding.encoder.encode(self))))
    }
}
