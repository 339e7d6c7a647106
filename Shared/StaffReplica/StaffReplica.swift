import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// A service's copy of the staff's users, kept from the gateway's `identity.user.*` events, so the
/// service can hold that an owner is a real, active user without asking the gateway. A service that
/// keeps one adds `StaffReplica.sql` to its SQL and `handlers` to its handlers.
public struct StaffReplica: Sendable {
    /// The table (`staff_users`, migration 050) in the service's schema.
    public static let sql = SQLFiles(EmbeddedSQL.files)

    let table: String
    let client: PostgresClient
    let logger: Logger

    public init(service: ServiceDependencies) {
        table = service.schema.table("staff_users")
        client = service.client
        logger = service.logger
    }

    public var handlers: [EventHandler] {
        IdentityEvents.userTypes.map { type in
            EventHandler(type: type) { envelope, context in
                try await keep(try envelope.payload(as: StaffUser.self), version: envelope.aggregateVersion, on: context.connection)
            }
        }
    }

    /// A user as the replica knows them.
    public struct User: Sendable, Equatable {
        public var id: UUID
        public var email: String
        public var active: Bool
    }

    /// The users each value names (a user's id or e-mail address, in any case), in one query;
    /// a value that names nobody is left out.
    public func users(_ values: Set<String>, on connection: PostgresConnection) async throws -> [String: User] {
        guard !values.isEmpty else { return [:] }
        var sql = SQLBuilder()
        sql.append("""
            SELECT v, u.id, u.email, u.active FROM unnest(\(try sql.bind(values.sorted()))::text[]) AS v
            JOIN \(table) u ON u.id::text = lower(v) OR lower(u.email) = lower(v)
            """)
        var found: [String: User] = [:]
        for try await (value, id, email, active) in try await connection.query(sql.query, logger: logger).decode((String, UUID, String, Bool).self) {
            found[value] = User(id: id, email: email, active: active)
        }
        return found
    }

    /// Why `value` may not own work, or nil when it names an active user.
    public static func refusal(of value: String, _ user: User?) -> String? {
        guard let user else { return "\"\(value)\" is not a user of Switchboard; give an active user's id or e-mail address" }
        return user.active ? nil : "user \(user.email) is deactivated; give the work to an active user"
    }

    /// The owner a write names, as the id to store; `refuse` makes the service's own error of a
    /// refusal's message.
    public func owner<Refusal: Error>(
        _ value: String?, on connection: PostgresConnection, refuse: (String) -> Refusal
    ) async throws -> String? {
        guard let value else { return nil }
        let user = try await users([value], on: connection)[value]
        if let reason = Self.refusal(of: value, user) { throw refuse(reason) }
        return user?.id.uuidString.lowercased()
    }

    /// The owner after a patch: an owner the patch changes must be an active user; one it leaves
    /// as stored stays (a name typed before owners were users, a user deactivated since), so a
    /// form that sends every field back does not fail on it.
    public func owner<Refusal: Error>(
        patched: String?, stored: String?, on connection: PostgresConnection, refuse: (String) -> Refusal
    ) async throws -> String? {
        patched == stored ? patched : try await owner(patched, on: connection, refuse: refuse)
    }

    /// A list's or report's filter with its `owner` read as `filter(_:refuse:)` reads one.
    public func filter<Filter: OwnerFilter, Refusal: Error>(_ filter: Filter, refuse: (String) -> Refusal) async throws -> Filter {
        var filter = filter
        filter.owner = try await self.filter(filter.owner, refuse: refuse)
        return filter
    }

    /// An owner filter as stored values are matched: an id in any case is the stored lower-case
    /// one; an e-mail address becomes that user's id (deactivated or not: their work is still
    /// theirs), and an address of nobody is refused, since it can only be a typing error.
    /// Anything else (an owner written as text before users existed) is matched as it is.
    public func filter<Refusal: Error>(
        _ value: String?, refuse: (String) -> Refusal
    ) async throws -> String? {
        guard let value else { return nil }
        if let id = UUID(uuidString: value) { return id.uuidString.lowercased() }
        guard value.contains("@") else { return value }
        let user = try await client.withConnection { try await users([value], on: $0)[value] }
        guard let user else { throw refuse("no user has the e-mail address \(value)") }
        return user.id.uuidString.lowercased()
    }

    /// Newer versions only: redelivered or overtaken events leave the row as it is.
    private func keep(_ user: StaffUser, version: Int64, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(table) AS u (id, name, email, active, aggregate_version)
            VALUES (\(try sql.bind(user.id)), \(try sql.bind(user.name)), \(try sql.bind(user.email)), \(try sql.bind(user.active)), \(try sql.bind(version)))
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, active = EXCLUDED.active,
                aggregate_version = EXCLUDED.aggregate_version
            WHERE u.aggregate_version < EXCLUDED.aggregate_version
            """)
        try await connection.query(sql.query, logger: logger)
    }
}

/// A list's or report's filter with an `owner`.
public protocol OwnerFilter: Sendable {
    var owner: String? { get set }
}
