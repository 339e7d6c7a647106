import HTTPTypes
import Messaging
import ServiceKit

/// The one place where a contacts error becomes the problem document a client reads.
extension ContactsError: ServiceError {
    var problem: Problem {
        switch self {
        case let .invalid(errors): .validation(errors)
        case let .malformed(reason): .badRequest(reason)
        case let .notFound(what): .notFound(what)
        case let .versionMismatch(expected, current): .versionMismatch(expected: expected, current: current)
        case let .duplicate(existing, _, _): .conflict("duplicate-contact", description, extensions: ["existing_contact": existing])
        case let .merged(_, survivor): .conflict("merged", description, extensions: ["survivor_id": .string(survivor.lowercased)])
        case .accountInUse: .conflict("account-in-use", description)
        case .customFieldExists: .conflict("custom-field-exists", description)
        case .customFieldsChanging: Problem(.serviceUnavailable, detail: description)
        case .unsupportedMediaType: Problem(.unsupportedMediaType, slug: "unsupported-media-type", detail: description)
        case .unsupportedCharset: Problem(.unsupportedMediaType, slug: "unsupported-charset", detail: description)
        case .uploadTooLarge: Problem(.contentTooLarge, slug: "upload-too-large", detail: description)
        case .uploadInProgress: .conflict("upload-in-progress", description)
        case .uploadAbandoned: Problem(.conflict, slug: "upload-abandoned", detail: description)
        }
    }
}
