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
    /// A claim older than this without an answer or a lease of its own (written before leases).
    static let abandonedClaim = "5 minutes"

    struct Stored: Sendable {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
    }

    enum Start: Sendable {
        /// The key is this request's until `complete` or `abandon` names the claim, or the lease ends.
        case proceed(claim: UUID)
        case replay(Stored)
    }

    var table: String { schema.table("idempotency_records") }

    /// Claims the key for `lease` (as long as the request may take), or returns what the first
    /// request with it got. A key whose request is still in flight, or reused for a different
    /// request, is a 409 / 422 problem. A claim whose lease ran out belongs to a request that
    /// died with its gateway; the next request with the key takes it over, and the service's
    /// request ledger keeps that from doing the work twice.
    func start(caller: String, key: String, fingerprint: String, lease: Duration) async throws -> Start {
        let claimId = UUID()
        var claim = SQLBuilder()
        let callerPlaceholder = try claim.bind(caller)
        let keyPlaceholder = try claim.bind(key)
        claim.append("""
            WITH expired AS (
                DELETE FROM \(table) WHERE caller = \(callerPlaceholder) AND key = \(keyPlaceholder)
                    AND (created_at < now() - interval '\(Self.lifetime)'
                         OR (status IS NULL AND coalesce(claimed_until, created_at + interval '\(Self.abandonedClaim)') < now())))
            INSERT INTO \(table) (caller, key, fingerprint, claim, claimed_until)
            VALUES (\(callerPlaceholder), \(keyPlaceholder), \(try claim.bind(fingerprint)), \(try claim.bind(claimId)),
                now() + make_interval(secs => \(try claim.bind(Double(lease.components.seconds)))))
            ON CONFLICT (caller, key) DO NOTHING RETURNING 'claimed'
            """)
        if try await !client.write(claim.query, logger: logger).isEmpty { return .proceed(claim: claimId) }

        var read = SQLBuilder()
        read.append("""
            SELECT fingerprint, status, headers::text, body,
                ceil(extract(epoch FROM coalesce(claimed_until, created_at + interval '\(Self.abandonedClaim)') - now()))::int8
            FROM \(table) WHERE caller = \(try read.bind(caller)) AND key = \(try read.bind(key))
            """)
        let statement = read.query
        let found = try await client.read(logger: logger) { [logger] connection in
            var found: (String, Int?, String?, ByteBuffer?, Int64)?
            for try await row in try await connection.query(statement, logger: logger).decode((String, Int?, String?, ByteBuffer?, Int64).self) {
                found = row
            }
            return found
        }
        guard let (storedFingerprint, status, headers, body, leaseLeft) = found else {
            return try await start(caller: caller, key: key, fingerprint: fingerprint, lease: lease)  // expired and swept between the two statements
        }
        guard storedFingerprint == fingerprint else {
            throw Problem(
                .unprocessableContent, slug: "idempotency-key-reused",
                detail: "Idempotency-Key '\(key)' was already used for a different request; use a new key for a new request"
            )
        }
        guard let status else {
            throw Problem(
                .conflict, slug: "idempotency-in-progress",
                detail: "a request with Idempotency-Key '\(key)' is still being processed", headers: ["Retry-After": "\(max(1, leaseLeft))"]
            )
        }
        let headerMap = try headers.map { try JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
        return .replay(Stored(status: status, headers: headerMap, body: body.map { Array($0.readableBytesView) } ?? []))
    }

    /// Keeps the answer, if the claim is still this request's.
    func complete(caller: String, key: String, claim: UUID, response: Stored) async throws {
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(table) SET status = \(try sql.bind(response.status)),
                headers = \(try sql.bind(String(decoding: try JSONEncoder().encode(response.headers), as: UTF8.self)))::jsonb,
                body = \(try sql.bind(ByteBuffer(bytes: response.body))), claimed_until = NULL
            WHERE caller = \(try sql.bind(caller)) AND key = \(try sql.bind(key)) AND claim = \(try sql.bind(claim))
            """)
        _ = try await client.write(sql.query, logger: logger)
    }

    /// Forgets a claim whose request failed without an answer worth keeping, so a retry can run at
    /// once. If the database cannot be reached, the claim's lease frees the key instead.
    func abandon(caller: String, key: String, claim: UUID) async {
        do {
            var sql = SQLBuilder()
            sql.append("""
                DELETE FROM \(table)
                WHERE caller = \(try sql.bind(caller)) AND key = \(try sql.bind(key)) AND claim = \(try sql.bind(claim)) AND status IS NULL
                """)
            _ = try await client.write(sql.query, logger: logger)
        } catch {
            logger.warning("could not release an idempotency key; its lease frees it", metadata: ["key": "\(key)", "error": "\(error)"])
        }
    }

    func sweep() async throws {
        _ = try await client.write(
            PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE created_at < now() - interval '\(Self.lifetime)'"), logger: logger
        )
    }
}
