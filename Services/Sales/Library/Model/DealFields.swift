import Contracts
import Foundation
import Messaging
import ServiceKit

/// What a client writes about a deal. Its stage and outcome change through their own actions
/// (`/stage`, `/won`, `/lost`, `/reopen`), never by a patch.
struct DealFields: Codable, Sendable, Hashable {
    var title: String?
    var contactId: UUID?
    var accountId: UUID?
    var pipelineId: UUID?
    var stageId: UUID?
    var amount: Money?
    /// 0–100; nil means the stage's default.
    var probability: Int?
    /// `YYYY-MM-DD`.
    var expectedCloseDate: String?
    var owner: String?
    var sourceCampaignId: UUID?
    var leadId: UUID?
    var tags: [String]?
    /// When a deal recorded after the fact (history from the system before) was made; a new
    /// deal's own, never patched. Now when not given.
    var createdAt: String?

    enum CodingKeys: String, CodingKey {
        case title, amount, probability, owner, tags
        case createdAt = "created_at"
        case contactId = "contact_id"
        case accountId = "account_id"
        case pipelineId = "pipeline_id"
        case stageId = "stage_id"
        case expectedCloseDate = "expected_close_date"
        case sourceCampaignId = "source_campaign_id"
        case leadId = "lead_id"
    }

    /// Members of the deal document a patch may not name, each with where the change is made instead.
    static let notPatchable: [String: String] = [
        "stage_id": "move the deal with POST /api/v1/deals/{id}/stage",
        "pipeline_id": "move the deal to a stage of the other pipeline with POST /api/v1/deals/{id}/stage",
        "status": "close the deal with POST /api/v1/deals/{id}/won or /lost, or reopen it with /reopen",
        "lost_reason": "give the reason with POST /api/v1/deals/{id}/lost",
        "close_comment": "give the comment with POST /api/v1/deals/{id}/won or /lost",
        "closed_at": "the service sets it", "stage_entered_at": "the service sets it", "stage_name": "the stage's name, set by the stage",
        "probability_is_stage_default": "set probability, or null for the stage's default",
        "created_at": "only a new deal gives it",
    ]

    /// The earliest `created_at` or `closed_at` taken: older history is a typing error.
    static let earliestHistory = Date(timeIntervalSince1970: 946_684_800)  // 2000-01-01

    func validated() throws(SalesError) -> DealFields {
        var check = FieldChecker()
        var result = self
        result.title = check.text(title, "title", required: true)
        if amount == nil { check.fail("amount", "is required, as {\"amount\": \"1250.00\", \"currency\": \"EUR\"}") }
        if let amount, amount.amount < 0 { check.fail("amount.amount", "must not be negative") }
        if let probability, !(0...100).contains(probability) { check.fail("probability", "must be a whole number from 0 to 100") }
        if let date = expectedCloseDate, Self.calendarDate(date) == nil {
            check.fail("expected_close_date", "must be a date such as 2026-12-31")
        }
        result.owner = check.text(owner, "owner")
        result.tags = check.tags(tags)
        if let text = createdAt {
            result.createdAt = Self.pastTimestamp(text, "created_at", &check).map { EventCoding.timestamp($0) }
        }
        try check.check(SalesError.invalid)
        return result
    }

    /// An RFC 3339 time from 2000 up to now: when something already happened.
    static func pastTimestamp(_ text: String, _ field: String, _ check: inout FieldChecker) -> Date? {
        guard let time = EventCoding.parseTimestamp(text) else {
            check.fail(field, "must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z")
            return nil
        }
        guard time >= earliestHistory, time <= Date() else {
            check.fail(field, "must lie between 2000-01-01 and now")
            return nil
        }
        return time
    }

    /// `YYYY-MM-DD` that names a real day.
    static func calendarDate(_ text: String) -> Date? {
        guard text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}/) != nil else { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2])
        guard components.isValidDate(in: Calendar.utc) else { return nil }
        return Calendar.utc.date(from: components)
    }
}

/// The body of the actions that move or close a deal.
struct DealAction: Decodable, Sendable {
    var stageId: UUID?
    var reason: String?
    var comment: String?
    /// When a won or lost deal was decided, if before now (a signature recorded days later).
    var closedAt: String?
    var version: Int64?

    enum CodingKeys: String, CodingKey {
        case reason, comment, version
        case stageId = "stage_id"
        case closedAt = "closed_at"
    }
}
