import Logging
import PostgresNIO

/// Thrown by a handler for an event it can never apply (invalid data, a reference it rejects):
/// the message goes to the service's dead-letter queue with this reason instead of being retried.
public struct PermanentEventError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// What a handler gets: the transaction its effect commits in, with the inbox row, and the outbox
/// for the events that effect causes.
public struct EventContext: Sendable {
    public let connection: PostgresConnection
    public let outbox: Outbox
    public let logger: Logger

    /// The consumer makes one per delivery; a test applies a handler with one of its own.
    public init(connection: PostgresConnection, outbox: Outbox, logger: Logger) {
        self.connection = connection
        self.outbox = outbox
        self.logger = logger
    }
}

/// Applies one event type (any of `versions`) inside the consumer's transaction.
public struct EventHandler: Sendable {
    public var type: String
    public var versions: Set<Int>
    public var apply: @Sendable (EventEnvelope, EventContext) async throws -> Void
    /// Set when a run of events can be applied in one go, as after a bulk import.
    public var together: Together?

    public init(
        type: String, versions: Set<Int> = [1],
        apply: @escaping @Sendable (EventEnvelope, EventContext) async throws -> Void
    ) {
        self.type = type
        self.versions = versions
        self.apply = apply
    }

    /// A handler whose events apply in runs; one on its own is a run of one.
    public init(type: String, versions: Set<Int> = [1], together: Together) {
        self.init(type: type, versions: versions) { envelope, context in try await together.apply([envelope], context) }
        self.together = together
    }

    /// Applies consecutive new events of a batch whose handlers name the same group in one call
    /// (one statement instead of one each), with the same effect as applying them one by one in
    /// the order given.
    public struct Together: Sendable {
        public var group: String
        public var apply: @Sendable ([EventEnvelope], EventContext) async throws -> Void

        public init(group: String, apply: @escaping @Sendable ([EventEnvelope], EventContext) async throws -> Void) {
            self.group = group
            self.apply = apply
        }
    }
}
