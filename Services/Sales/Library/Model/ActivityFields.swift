import Contracts
import Foundation
import Messaging
import ServiceKit

enum ActivityKind: String, APIEnum {
    case call, meeting, task
}

/// A call, meeting or task as a client writes it.
struct ActivityFields: Codable, Sendable {
    var kind: ActivityKind?
    var subject: String?
    var notes: String?
    /// RFC 3339.
    var dueAt: String?
    var durationMinutes: Int?
    var owner: String?
    var contactId: UUID?
    var dealId: UUID?
    var leadId: UUID?

    enum CodingKeys: String, CodingKey {
        case kind, subject, notes, owner
        case dueAt = "due_at"
        case durationMinutes = "duration_minutes"
        case contactId = "contact_id"
        case dealId = "deal_id"
        case leadId = "lead_id"
    }

    /// Members of the activity document that its actions or the service set.
    static let serviceSet = ["call_list_id", "done", "done_at", "outcome", "overdue"]

    func validated() throws(SalesError) -> (fields: ActivityFields, due: Date) {
        var check = FieldChecker()
        var result = self
        if kind == nil { check.fail("kind", "is required: call, meeting or task") }
        result.subject = check.text(subject, "subject", required: true, maximum: 500)
        result.notes = check.text(notes, "notes", maximum: 20_000)
        result.owner = check.text(owner, "owner")
        var due = Date()
        if let text = dueAt {
            if let parsed = EventCoding.parseTimestamp(text) { due = parsed } else { check.fail("due_at", "must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z") }
        } else {
            check.fail("due_at", "is required")
        }
        if let minutes = durationMinutes, minutes <= 0 || minutes > 24 * 60 * 31 { check.fail("duration_minutes", "must be from 1 to 44640") }
        try check.check(SalesError.invalid)
        return (result, due)
    }
}

/// `POST /activities/{id}/complete` and a call list's outcome.
struct ActivityCompletion: Decodable, Sendable {
    var outcome: String?
    var notes: String?
    var calledBy: String?
    var version: Int64?

    enum CodingKeys: String, CodingKey {
        case outcome, notes, version
        case calledBy = "called_by"
    }
}

/// A call list as a client makes it.
struct CallListFields: Decodable, Sendable {
    var name: String?
    var script: String?
    var owner: String?
    var contactIds: [UUID]?

    enum CodingKeys: String, CodingKey {
        case name, script, owner
        case contactIds = "contact_ids"
    }
}

/// What a call on a list came to.
enum CallOutcome: String, APIEnum {
    case reached, interested
    case notInterested = "not_interested"
    case callback
    case noAnswer = "no_answer"
    case busy, voicemail
    case wrongNumber = "wrong_number"
}
