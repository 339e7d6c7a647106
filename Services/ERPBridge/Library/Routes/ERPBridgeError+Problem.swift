import HTTPTypes
import ServiceKit

/// The one place where an ERP bridge error becomes the problem document a client reads.
extension ERPBridgeError: ServiceError {
    var problem: Problem {
        switch self {
        case let .invalid(errors): .validation(errors)
        case let .notFound(what): .notFound(what)
        case let .conflict(kind, reason): .conflict(kind.rawValue, reason)
        }
    }
}
