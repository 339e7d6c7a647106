import Foundation
import HTTPTypes
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// `Idempotency-Key` records: the first response to a POST, replayed for 24 hours to the same
/// caller sending the same key with the same request.
struct IdempotencyStore: Sendable {
    let schema: SchemaName
    let client: PostgresClient
    let logger: Logger
    static let lifetime = "24 hours"
    /// A claim still without an answer after this long belongs to a gateway that died mid-request;
    /// the next request with the key takes it over.
    static let abandonedClaim = "5 minutes"

    struct Stored: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Start: Sendable {
        case proceed
        case replay(Stored)
    }

    var table: String { schema.table("idempotency_records") }

    /// Claims the key, or returns what the first request with it got. A key still in flight, or
    /// reused for a different request, is a 409 / 422 problem.
    func start(caller: String, key: String, fingerprint: String) async throws -> Start {
        var claim = SQLBuilder()
        let callerPlaceholder = try claim.bind(caller)
        let keyPlaceholder = try claim.bind(key)
        claim.append("""
            WITH expired AS (
                DELETE FROM \(table) WHERE caller = \(callerPlaceholder) AND key = \(keyPlaceholder)
                    AND (created_at < now() - interval '\(Self.lifetime)'
                         OR (status IS NULL AND created_at < now() - interval '\(Self.abandonedClaim)')))
            INSERT INTO \(table) (caller, key, fingerprint) VALUES (\(callerPlaceholder), \(keyPlaceholder), \(try claim.bind(fingerprint)))
            ON CONFLICT (caller, key) DO NOTHING RETURNING 'claimed'
            """)
        if try await !client.texts(claim.query, logger: logger).isEmpty { return .proceed }

        var read = SQLBuilder()
        read.append("""
            SELECT fingerprint, status, headers::text, body FROM \(table)
            WHERE caller = \(try read.bind(caller)) AND key = \(try read.bind(key))
            """)
        let rows = try await client.query(read.query, logger: logger).decode((String, Int?, String?, ByteBuffer?).self)
        for try await (storedFingerprint, status, headers, body) in rows {
            guard storedFingerprint == fingerprint else {
                throw Problem(
                    .unprocessableContent, slug: "idempotency-key-reused",
                    detail: "Idempotency-Key '\(key)' was already used for a different request; use a new key for a new request"
                )
            }
            guard let status else {
                throw Problem(
                    .conflict, slug: "idempotency-in-progress",
                    detail: "a request with Idempotency-Key '\(key)' is still being processed", headers: ["Retry-After": "1"]
                )
            }
            let headerMap = try headers.map { try JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
            return .replay(Stored(status: status, headers: headerMap, body: body.map { Array($0.readableBytesView) } ?? []))
        }
        return try await start(caller: caller, key: key, fingerprint: fingerprint)  // expired and swept between the two statements
    }

    func complete(caller: String, key: String, response: Stored) async throws {
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(table) SET status = \(try sql.bind(response.status)),
                headers = \(try sql.bind(String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self)))::jsonb,
                body = \(try sql.bind(ByteBuffer(bytes: response.body)))
            WHERE caller = \(try sql.bind(caller)) AND key = \(try sql.bind(key))
            """)
        try await client.query(sql.query, logger: logger)
    }

    /// Forgets a claim whose request failed without an answer worth keeping, so a retry can run.
    func abandon(caller: String, key: String) async {
        do {
            var sql = SQLBuilder()
            sql.append("DELETE FROM \(table) WHERE caller = \(try sql.bind(caller)) AND key = \(try sql.bind(key)) AND status IS NULL")
            try await client.query(sql.query, logger: logger)
        } catch {
            logger.warning("could not release an idempotency key", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }

    func sweep() async throws {
        try await client.query(
            PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE created_at < now() - interval '\(Self.lifetime)'"), logger: logger
        )
    }
}
