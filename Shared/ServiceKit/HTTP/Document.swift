import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Messaging
import PostgresNIO
import Storage

/// A resource as JSON text built by a service's `*_document` SQL functions: what the API answers
/// and the event carries, byte for byte.
public struct Document: Sendable {
    public var text: String

    public init(text: String) { self.text = text }

    public var json: JSONValue {
        get throws { try APICoding.decoder.decode(JSONValue.self, from: Data(text.utf8)) }
    }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try APICoding.decoder.decode(T.self, from: Data(text.utf8))
    }

    public struct Identity: Decodable, Sendable {
        public var id: UUID
        public var version: Int64?
    }

    /// The resource's id and version.
    public var identity: Identity {
        get throws { try decode(Identity.self) }
    }

    /// Members the service sets, never a client.
    public static let readOnlyMembers = ["id", "version", "created_at", "updated_at", "deleted_at"]

    /// A resource's writable fields after a JSON merge patch: the current document without its
    /// read-only members (and `alsoReadOnly`), the patch applied, decoded as `T`; a member of the
    /// wrong type is the service's own error, `invalid` (`ContactsError.invalid`), naming it.
    public static func writableFields<T: Decodable, Failure: Error>(
        _ type: T.Type, of current: Document, patchedWith patch: JSONValue, alsoReadOnly: [String] = [],
        invalid: ([FieldError]) -> Failure
    ) throws -> T {
        var base = try current.json
        if case var .object(members) = base {
            for name in readOnlyMembers + alsoReadOnly { members[name] = nil }
            base = .object(members)
        }
        return try APICoding.decode(T.self, from: APICoding.encoder.encode(MergePatch.apply(patch, to: base)), invalid: invalid)
    }

    /// The event a change causes, with the document as its data.
    public func event(_ type: String, producer: String, aggregateId: UUID, version: Int64) throws -> EventEnvelope {
        EventEnvelope(type: type, producer: producer, aggregateId: aggregateId, aggregateVersion: version, data: try json)
    }

    /// The document as the response body, with its version as the ETag; `location` + id for a 201.
    public func response(status: HTTPResponse.Status = .ok, location: String? = nil) throws -> Response {
        let identity = try identity
        var headers = HTTPFields()
        if let version = identity.version { headers[.eTag] = entityTag(version) }
        if let location { headers[.location] = location + identity.id.lowercased }
        return APICoding.rawResponse(text, status: status, headers: headers)
    }
}

extension PostgresConnection {
    public func document(_ query: PostgresQuery, logger: Logger) async throws -> Document? {
        try await texts(query, logger: logger).first.map(Document.init)
    }

    /// The document a write returns (`RETURNING` it), with the event the write causes (`type`, the
    /// aggregate at `version`) appended to the outbox in the same transaction.
    @discardableResult
    public func document(
        _ query: PostgresQuery, causing type: String, producer: String, aggregateId: UUID, version: Int64, outbox: Outbox, logger: Logger
    ) async throws -> Document {
        let written = try await document(returnedBy: query, logger: logger)
        try await outbox.append(try written.event(type, producer: producer, aggregateId: aggregateId, version: version), on: self, logger: logger)
        return written
    }

    /// The document a statement that cannot miss returns: a write's `RETURNING` of a row checked
    /// or locked before, a read under that lock.
    public func document(returnedBy query: PostgresQuery, logger: Logger) async throws -> Document {
        guard let document = try await document(query, logger: logger) else { throw MissingRow(statement: query.sql) }
        return document
    }
}

/// A statement that had to return a row returned none: a fault in the service (a 500), not in the
/// request.
public struct MissingRow: Error, CustomStringConvertible {
    public var statement: String
    public init(statement: String) { self.statement = statement }
    public var description: String { "no row came back from: \(statement.prefix(200))" }
}

extension PostgresClient {
    /// The document `query` selects, or `absent` (the service's not-found error) thrown.
    public func document(_ query: PostgresQuery, orThrow absent: @autoclosure () -> some Error, logger: Logger) async throws -> Document {
        guard let text = try await texts(query, logger: logger).first else { throw absent() }
        return Document(text: text)
    }

    /// The document (`expression`, of the row `alias`) of the row `id` of `table`; with `live`, a
    /// soft-deleted row counts as absent.
    public func document(
        _ expression: String, from table: String, as alias: String, id: UUID, live: Bool = false,
        orThrow absent: @autoclosure () -> some Error, logger: Logger
    ) async throws -> Document {
        var sql = SQLBuilder()
        sql.append("SELECT \(expression) FROM \(table) \(alias) WHERE \(alias).id = \(try sql.bind(id))")
        if live { sql.append(" AND \(alias).deleted_at IS NULL") }
        return try await document(sql.query, orThrow: absent(), logger: logger)
    }

    /// Every document `query` selects, as one page: for the short lists nobody pages through.
    public func unpaged(_ query: PostgresQuery, logger: Logger) async throws -> RawPage {
        RawPage(items: try await texts(query, logger: logger), nextCursor: nil)
    }

    /// Runs a keyset query that selects (document text, cursor values) with `LIMIT limit + 1`:
    /// the extra row only tells whether there is a next page.
    public func page(_ query: PostgresQuery, limit: Int, logger: Logger) async throws -> RawPage {
        try await read(logger: logger) { connection in
            try await RawPage.read(try await connection.query(query, logger: logger), limit: limit)
        }
    }
}

extension RawPage {
    public static func read(_ rows: PostgresRowSequence, limit: Int) async throws -> RawPage {
        var items: [String] = []
        var last: [String] = []
        for try await (text, position) in rows.decode((String, [String]).self) {
            if items.count == limit { return RawPage(items: items, nextCursor: Cursor(last).token) }
            items.append(text)
            last = position
        }
        return RawPage(items: items, nextCursor: nil)
    }
}

/// Encodes a value as JSON text for a `$n::jsonb` parameter.
public func jsonText(_ value: some Encodable) throws -> String {
    String(decoding: try APICoding.encoder.encode(value), as: UTF8.self)
}

/// A `LIKE` pattern matching `term` anywhere, with the pattern's own wildcards escaped.
public func containsPattern(_ term: String) -> String {
    let escaped = term.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
        .replacingOccurrences(of: "_", with: "\\_")
    return "%\(escaped)%"
}

extension UUID {
    /// The wire form: lower case.
    public var lowercased: String { uuidString.lowercased() }
}
