import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import NIOCore
import Storage

/// JSON as the public API speaks it (DESIGN.md §7): the same coding as the event wire format, so a
/// resource and the event that carries it look alike. Types name their snake_case keys themselves.
public enum APICoding {
    public static let encoder = EventCoding.encoder
    public static let decoder = EventCoding.decoder

    /// The largest JSON body a route reads; uploads stream and are not limited by it.
    public static let maximumBodySize = 1 << 20

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type, is Double.Type, is Decimal.Type: "a number"
        case is UUID.Type: "a UUID string"
        case is Date.Type: "an RFC 3339 timestamp string"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : String(describing: type).hasPrefix("Dictionary") ? "an object" : "a value of another type"
        }
    }

    /// A JSON response with the given status.
    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:])
        throws -> Response
    {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// `T` from JSON bytes; a decoding failure is a `Problem` naming the field.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: Data) throws -> T {
        do {
            return try decoder.decode(T.self, from: bytes)
        } catch let error as DecodingError {
            throw Problem.decoding(error)
        }
    }

    /// `T` from JSON a service made itself (a document with a patch applied): a decoding failure is
    /// the service's own error, `invalid`, naming the field.
    public static func decode<T: Decodable, Failure: Error>(_ type: T.Type, from bytes: Data, invalid: ([FieldError]) -> Failure) throws -> T {
        do {
            return try decoder.decode(T.self, from: bytes)
        } catch let error as DecodingError {
            throw invalid([FieldError(decoding: error)])
        }
    }

    /// A response whose body is JSON text already.
    public static func rawResponse(_ json: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}

extension Request {
    /// The body decoded as `T`: a missing, oversized or malformed body, or a field of the wrong type,
    /// is a `Problem` naming what is wrong.
    public func decodeJSON<T: Decodable>(_ type: T.Type, context: some RequestContext) async throws -> T {
        try APICoding.decode(T.self, from: try await jsonBody(context: context))
    }

    /// The raw JSON body, checked for size and presence.
    public func jsonBody(context: some RequestContext) async throws -> Data {
        guard let body = try await optionalJSONBody(context: context) else { throw Problem.badRequest("the request needs a JSON body") }
        return body
    }

    /// The raw JSON body checked for size, or nil when the request has none
    /// (an action whose members are all optional).
    public func optionalJSONBody(context: some RequestContext) async throws -> Data? {
        if let type = headers[.contentType], !type.lowercased().hasPrefix("application/json"),
            !type.lowercased().hasPrefix("application/merge-patch+json")
        {
            throw Problem(.unsupportedMediaType, slug: "unsupported-media-type", detail: "send the body as application/json, not \(type)")
        }
        let buffer = try await bodyWithinLimits(maximum: APICoding.maximumBodySize)
        return buffer.readableBytes > 0 ? Data(buffer.readableBytesView) : nil
    }

    /// The whole body, at most `maximum` bytes, read within `APICoding.bodyTimeout`. A declared
    /// `Content-Length` over the limit is a 413 at once, before a byte is read; a body that does
    /// not arrive in time is a 408. Both close the connection, whose unread rest would otherwise
    /// be waited for.
    public func bodyWithinLimits(maximum: Int) async throws -> ByteBuffer {
        if let declared = headers[.contentLength].flatMap(Int.init), declared > maximum {
            throw APICoding.tooLarge(maximum)
        }
        let body = self.body
        do {
            return try await abandonable(limit: APICoding.bodyTimeout) { try await body.collect(upTo: maximum) }
        } catch is NIOTooManyBytesError {
            throw APICoding.tooLarge(maximum)
        } catch is DeadlineExceeded {
            throw Problem(
                .requestTimeout, slug: "body-timeout",
                detail: "the body did not arrive within \(APICoding.bodyTimeout.components.seconds) s", headers: ["Connection": "close"]
            )
        }
    }
}

extension APICoding {
    /// How long a JSON body may take to arrive, however slowly it trickles.
    public static let bodyTimeout: Duration = .seconds(30)

    static func tooLarge(_ maximum: Int) -> Problem {
        Problem(
            .contentTooLarge, slug: "body-too-large", detail: "a JSON body may be at most \(maximum) bytes",
            headers: ["Connection": "close"]
        )
    }
}
