import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// What the operator's commands (`switchboard erp …`) do in the bridge's schema.
public struct ERPOperations: Sendable {
    let service: ServiceDependencies

    public init(client: PostgresClient, logger: Logger) throws {
        service = ServiceDependencies(schema: try SchemaName(ERPBridgeService.definition.name), client: client, logger: logger)
    }

    /// A source's name: it is its routing-key prefix, its queue's suffix and its broker user's.
    public static func isValidSourceName(_ name: String) -> Bool {
        name.wholeMatch(of: /[a-z][a-z0-9_]{0,39}/) != nil
    }

    public struct Source: Sendable {
        public var name: String
        public var createdAt: Date
        public var removedAt: Date?
        public var orders: Int
    }

    /// Records the source and runs `provision` (its broker user and queue) in the same
    /// transaction: a source the broker does not know is never recorded. A removed source may be
    /// added again; an active one may not (its credentials were printed once).
    public func addSource(_ name: String, provision: @escaping @Sendable () async throws -> Void) async throws {
        try await service.client.transaction(logger: service.logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(service.schema.table("sources")) AS s (name) VALUES (\(try sql.bind(name)))
                ON CONFLICT (name) DO UPDATE SET removed_at = NULL, created_at = now() WHERE s.removed_at IS NOT NULL
                RETURNING 1
                """)
            guard try await connection.query(sql.query, logger: service.logger).collect().count > 0 else {
                throw ERPOperationError("source '\(name)' exists already; remove it first to give it new credentials")
            }
            try await provision()
        }
    }

    public func removeSource(_ name: String, deprovision: @escaping @Sendable () async throws -> Void) async throws {
        try await service.client.transaction(logger: service.logger) { connection in
            var sql = SQLBuilder()
            sql.append("""
                UPDATE \(service.schema.table("sources")) SET removed_at = now() WHERE name = \(try sql.bind(name)) AND removed_at IS NULL
                RETURNING 1
                """)
            guard try await connection.query(sql.query, logger: service.logger).collect().count > 0 else {
                throw ERPOperationError("no active source '\(name)'")
            }
            try await deprovision()
        }
    }

    public func sources() async throws -> [Source] {
        var sql = SQLBuilder()
        sql.append("""
            SELECT s.name, s.created_at, s.removed_at, (SELECT count(*)::int FROM \(service.schema.table("orders")) o WHERE o.source = s.name)
            FROM \(service.schema.table("sources")) s ORDER BY s.name
            """)
        var result: [Source] = []
        for try await (name, created, removed, orders) in try await service.client.query(sql.query, logger: service.logger)
            .decode((String, Date, Date?, Int).self)
        {
            result.append(Source(name: name, createdAt: created, removedAt: removed, orders: orders))
        }
        return result
    }

    /// Sends the customer master to the source again (`CustomerMaster.resync`); how many were sent.
    public func resyncCustomers(source: String, since: Date?) async throws -> Int {
        try await service.client.transaction(logger: service.logger) { connection in
            try await CustomerMaster(service: service).resync(source: source, since: since, on: connection)
        }
    }

    /// The last reconciliation report of a source's day, as JSON text.
    public func reconciliation(source: String, day: String) async throws -> String? {
        try await Reconciliation(service: service).last(source: source, day: day)
    }
}

public struct ERPOperationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
