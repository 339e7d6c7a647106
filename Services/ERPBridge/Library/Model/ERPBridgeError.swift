import Foundation
import ServiceKit

/// What the ERP bridge's stores throw to the API, in the service's words.
/// `Routes/ERPBridgeError+Problem.swift` says which problem document each one is.
enum ERPBridgeError: Error, Sendable, CustomStringConvertible {
    /// Fields a rule refuses, each named by its JSON path.
    case invalid([FieldError])
    /// `what` ("order 0190…") does not exist.
    case notFound(String)
    /// The state of what the request names refuses the change; the text says why.
    case conflict(Conflict, String)

    enum Conflict: String, Sendable {
        case alertDecided = "alert-decided"
    }

    var description: String {
        switch self {
        case let .invalid(errors): FieldError.summary(errors)
        case let .notFound(what): CommonReasons.notFound(what)
        case let .conflict(_, reason): reason
        }
    }

    static func invalid(_ field: String, _ message: String) -> ERPBridgeError { .invalid([FieldError(field, message)]) }
}
