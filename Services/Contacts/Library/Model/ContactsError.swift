import Foundation
import Messaging
import ServiceKit

/// What the contacts service's stores, rules and event handlers throw, in the service's words.
/// `Routes/ContactsError+Problem.swift` says which problem document each one is; the import's
/// report and the worker use `description`, the same words.
enum ContactsError: Error, Sendable, CustomStringConvertible {
    /// Fields a rule refuses, each named by its JSON path.
    case invalid([FieldError])
    /// A body that is not what the operation reads at all (a merge patch that is not an object).
    case malformed(String)
    /// `what` ("contact 0190…") does not exist, or no longer.
    case notFound(String)
    /// The write expected another version than the stored one.
    case versionMismatch(expected: Int64, current: Int64)
    /// A live contact has one of the e-mails or phones: `existing` is its id, name and the keys it shares.
    case duplicate(existing: JSONValue, id: String, name: String)
    /// A write to a contact that was merged away: it must name the survivor.
    case merged(UUID, into: UUID)
    case accountInUse(UUID, contacts: Substring, children: Substring)
    case customFieldExists(entity: CustomFieldEntity, name: String)
    /// The custom field definitions kept changing under a create; nothing was written.
    case customFieldsChanging
    case unsupportedMediaType(String)
    case unsupportedCharset(String)
    case uploadTooLarge(maximumBytes: Int64)
    case uploadInProgress
    /// The upload outlived the sweep that gives up unfinished uploads.
    case uploadAbandoned

    var description: String {
        switch self {
        case let .invalid(errors): FieldError.summary(errors)
        case let .malformed(reason): reason
        case let .notFound(what): CommonReasons.notFound(what)
        case let .versionMismatch(expected, current): CommonReasons.versionMismatch(expected: expected, current: current)
        case let .duplicate(existing: _, id, name):
            "contact \(id) (\(name)) has the same e-mail or phone; send allow_duplicate=true to create another"
        case let .merged(id, survivor): "contact \(id.lowercased) was merged into \(survivor.lowercased); write to that one"
        case let .accountInUse(id, contacts, children):
            "account \(id.lowercased) still has \(contacts) contact(s) and \(children) child account(s); move or delete them first"
        case let .customFieldExists(entity, name): "\(entity.rawValue)s already have a custom field '\(name)'"
        case .customFieldsChanging: "the custom field definitions changed during the create three times; try again"
        case let .unsupportedMediaType(type): "upload the file as text/csv, not \(type)"
        case let .unsupportedCharset(label): "an import reads \(CSVCharset.names), not \(label); convert the file to UTF-8"
        case let .uploadTooLarge(maximum): "an import file may be at most \(maximum) bytes"
        case .uploadInProgress: "an upload with this Idempotency-Key is still under way"
        case .uploadAbandoned: "the upload took so long that it was given up; upload the file again"
        }
    }

    /// One refused field.
    static func invalid(_ field: String, _ message: String) -> ContactsError { .invalid([FieldError(field, message)]) }
}
