import NIOCore
import PostgresNIO
import _ConnectionPoolModule

/// A database call that failed for a reason outside the request: what the caller may conclude.
public enum DatabaseFault: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database could not be reached, or the connection was lost before anything committed:
    /// nothing was written, and the same call may simply be tried again.
    case unavailable(String)
    /// The connection was lost while the commit was under way: the change may or may not be
    /// stored, and only reading it back (or a request key the commit recorded) tells which.
    case commitOutcomeUnknown(String)

    public var description: String {
        switch self {
        case let .unavailable(reason): "the database is unavailable: \(reason)"
        case let .commitOutcomeUnknown(reason): "the connection was lost while committing; the outcome is unknown: \(reason)"
        }
    }

    /// How a failure of a database call is to be handled.
    public enum Kind: Sendable, Equatable {
        /// The database or the connection to it failed: passing, and no fault of the input.
        case connectivity
        /// Another transaction was in the way (deadlock, serialization, lock timeout): try again.
        case conflict
        /// The values cannot be stored (SQLSTATE class 22: NUL in text, a value out of range; and a
        /// NOT NULL or CHECK constraint): the same input fails the same way every time. (A unique
        /// or foreign key violation may be a race with another transaction, and is not this.)
        case data
        /// Anything else: a bug or a configuration error, which no retry of the input mends.
        case other
    }

    public static func kind(of error: any Error) -> Kind {
        switch error {
        case is DatabaseFault, is DeadlineExceeded, is ConnectionLost, is ChannelError: return .connectivity
        case let error as PSQLError: return kind(of: error)
        // The pool's circuit breaker: connections could not be made for a while, and it fails
        // requests at once rather than queue them. The database is down, which a retry outlasts.
        case let error as ConnectionPoolError where error != .requestCancelled: return .connectivity
        case let error as PostgresTransactionError:
            return kind(of: error.commitError ?? error.closureError ?? error.beginError ?? error.rollbackError ?? error)
        default: return .other
        }
    }

    static func kind(of error: PSQLError) -> Kind {
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            if error.serverInfo?[.severity] == "FATAL" || error.serverInfo?[.severity] == "PANIC" { return .connectivity }
            if state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57P") { return .connectivity }
            if ["40001", "40P01", "55P03", "57014"].contains(state) { return .conflict }
            if state.hasPrefix("22") || state == "23502" || state == "23514" { return .data }
            return .other
        case .connectionError, .uncleanShutdown, .serverClosedConnection, .clientClosedConnection, .poolClosed,
            .unexpectedBackendMessage, .messageDecodingFailure, .listenFailed, .queryCancelled:
            return .connectivity
        default:
            return .other
        }
    }

    /// The server's SQLSTATE and message, or the error as it describes itself.
    public static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError, let message = error.serverInfo?[.message] {
            return "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
        }
        return String(describing: error)
    }
}

/// The connection closed while an operation on it was awaited.
public struct ConnectionLost: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "the database connection closed" }
}
