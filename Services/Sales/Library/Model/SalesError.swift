import Foundation
import ServiceKit

/// What the sales service's stores, rules and event handlers throw, in the service's words.
/// `Routes/SalesError+Problem.swift` says which problem document each one is.
enum SalesError: Error, Sendable, CustomStringConvertible {
    /// Fields a rule refuses, each named by its JSON path.
    case invalid([FieldError])
    /// A body that is not what the operation reads at all (a merge patch that is not an object).
    case malformed(String)
    /// `what` ("deal 0190…") does not exist, or no longer.
    case notFound(String)
    /// The write expected another version than the stored one.
    case versionMismatch(expected: Int64, current: Int64)
    /// The state of what the request names refuses the change; the text says why and what to do.
    case conflict(Conflict, String)
    /// A deal without a pipeline goes to the default one, and there is none with an active stage.
    case noDefaultPipeline

    /// The kinds of conflict, as the problem types name them.
    enum Conflict: String, Sendable {
        case leadStatus = "lead-status"
        case leadConverted = "lead-converted"
        case activityDone = "activity-done"
        case dealWithoutLines = "deal-without-lines"
        case dealOpen = "deal-open"
        case dealClosed = "deal-closed"
        case dealLost = "deal-lost"
        case stageRetired = "stage-retired"
        case quoteStatus = "quote-status"
        case quoteExpired = "quote-expired"
        case lastStage = "last-stage"
        case pipelineNameTaken = "pipeline-name-taken"
        case stageNameTaken = "stage-name-taken"
        case productCodeTaken = "product-code-taken"
        case priceListNameTaken = "price-list-name-taken"
        case lostReasonExists = "lost-reason-exists"
        case orderRequest = "order-request"
    }

    var description: String {
        switch self {
        case let .invalid(errors): FieldError.summary(errors)
        case let .malformed(reason): reason
        case let .notFound(what): CommonReasons.notFound(what)
        case let .versionMismatch(expected, current): CommonReasons.versionMismatch(expected: expected, current: current)
        case let .conflict(_, reason): reason
        case .noDefaultPipeline: "no default pipeline with an active stage exists; an admin sets one"
        }
    }

    /// One refused field.
    static func invalid(_ field: String, _ message: String) -> SalesError { .invalid([FieldError(field, message)]) }

    /// The same error about a member of a larger body: each field named under `prefix` (`deal.`).
    func prefixingFields(_ prefix: String) -> SalesError {
        guard case let .invalid(errors) = self else { return self }
        return .invalid(errors.map { FieldError(prefix + $0.field, $0.message) })
    }
}
