import HTTPTypes
import ServiceKit

/// The one place where a sales error becomes the problem document a client reads.
extension SalesError: ServiceError {
    var problem: Problem {
        switch self {
        case let .invalid(errors): .validation(errors)
        case let .malformed(reason): .badRequest(reason)
        case let .notFound(what): .notFound(what)
        case let .versionMismatch(expected, current): .versionMismatch(expected: expected, current: current)
        case let .conflict(kind, reason): .conflict(kind.rawValue, reason)
        case .noDefaultPipeline: Problem(.serviceUnavailable, slug: "no-default-pipeline", detail: description)
        }
    }
}
