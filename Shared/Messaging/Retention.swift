import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Storage

/// Deletes what a schema's outbox and inbox no longer need (DESIGN.md §3, §4): published events
/// older than the outbox retention, which `outbox replay --since` cannot reach any more, and inbox
/// rows older than the inbox retention, whose messages are no longer expected back. Unpublished
/// events are never deleted. Every replica runs one; a transaction-level advisory lock lets one
/// of them work at a time, and each chunk is its own short transaction.
public final class Retention: Service, Sendable {
    public struct Settings: Sendable {
        public var outbox: Duration = .seconds(7 * 86_400)
        public var inbox: Duration = .seconds(30 * 86_400)
        public var interval: Duration = .seconds(3_600)
        public var chunk = 10_000
        public init() {}
    }

    private let schema: SchemaName
    private let client: PostgresClient
    private let settings: Settings
    private let logger: Logger

    public init(schema: SchemaName, client: PostgresClient, settings: Settings = .init(), logger: Logger) {
        self.schema = schema
        self.client = client
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let (outbox, inbox) = try await pruneOnce()
                if outbox + inbox > 0 {
                    logger.info("retention pruned", metadata: ["outbox": "\(outbox)", "inbox": "\(inbox)"])
                }
            } catch {
                logger.warning("retention could not prune", metadata: ["error": "\(String(reflecting: error))"])
            }
            let interval = settings.interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// Deletes in chunks until nothing is past its retention; returns how many rows went from each.
    @discardableResult
    public func pruneOnce() async throws -> (outbox: Int, inbox: Int) {
        let outbox = try await deleteInChunks("""
            DELETE FROM \(schema.table("outbox")) WHERE seq IN (
                SELECT seq FROM \(schema.table("outbox"))
                WHERE created_at < now() - make_interval(secs => $1) AND published_at IS NOT NULL
                LIMIT \(settings.chunk))
            """, olderThan: settings.outbox)
        let inbox = try await deleteInChunks("""
            DELETE FROM \(schema.table("inbox")) WHERE message_id IN (
                SELECT message_id FROM \(schema.table("inbox"))
                WHERE received_at < now() - make_interval(secs => $1)
                LIMIT \(settings.chunk))
            """, olderThan: settings.inbox)
        // A day, as long as the gateway keeps an Idempotency-Key: a retry comes within a claim's
        // lease (at most an hour), long before.
        _ = try await deleteInChunks("""
            DELETE FROM \(schema.table("request_ledger")) WHERE key IN (
                SELECT key FROM \(schema.table("request_ledger"))
                WHERE created_at < now() - make_interval(secs => $1)
                LIMIT \(settings.chunk))
            """, olderThan: .seconds(24 * 3600))
        return (outbox, inbox)
    }

    private func deleteInChunks(_ sql: String, olderThan age: Duration) async throws -> Int {
        let seconds = Double(age.components.seconds)
        var total = 0
        while true {
            let deleted = try await client.transaction(logger: logger) { [schema, logger] connection -> Int? in
                let lock = try await connection.query(
                    "SELECT pg_try_advisory_xact_lock(hashtext(\("switchboard.retention.\(schema.rawValue)")))", logger: logger
                )
                for try await acquired in lock.decode(Bool.self) where !acquired { return nil }
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: sql + " RETURNING 1", binds: try .of(seconds)), logger: logger
                )
                var count = 0
                for try await _ in rows { count += 1 }
                return count
            }
            guard let deleted else { return total }  // another replica is at it
            total += deleted
            if deleted < settings.chunk { return total }
        }
    }
}
