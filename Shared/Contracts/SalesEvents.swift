import Foundation

/// The event types the sales service publishes (`Services/Sales/asyncapi.yaml`). Each carries the
/// full current document of its aggregate.
public enum SalesEvents {
    public static let dealCreated = "sales.deal.created"
    /// A change of the deal's own fields (title, amount, owner…), or its contact re-pointed by a merge.
    public static let dealUpdated = "sales.deal.updated"
    /// The deal document plus `previous_stage_id`.
    public static let dealStageChanged = "sales.deal.stage_changed"
    public static let dealWon = "sales.deal.won"
    public static let dealLost = "sales.deal.lost"
    public static let dealReopened = "sales.deal.reopened"
    public static let dealDeleted = "sales.deal.deleted"

    /// Someone asked for the deal to become an order in an ERP: data `OrderRequest` (the deal, the
    /// accepted quote it rests on, if any, and the source), which the ERP bridge sends on.
    public static let dealOrderRequested = "sales.deal.order_requested"
    /// The events whose data is the deal.
    public static let dealTypes = [dealCreated, dealUpdated, dealStageChanged, dealWon, dealLost, dealReopened, dealDeleted]

    public static let leadCreated = "sales.lead.created"
    /// A change of the lead's own fields, or the contact and account of its conversion linked.
    public static let leadUpdated = "sales.lead.updated"
    public static let leadQualified = "sales.lead.qualified"
    public static let leadDisqualified = "sales.lead.disqualified"
    /// The lead became a deal. The contacts service answers it: it matches the lead's e-mail or
    /// phone to a contact, or creates one (and an account when `create_account`), and publishes
    /// `contacts.contact.lead_linked`.
    public static let leadConverted = "sales.lead.converted"
    public static let leadDeleted = "sales.lead.deleted"

    public static let leadTypes = [leadCreated, leadUpdated, leadQualified, leadDisqualified, leadConverted, leadDeleted]

    /// A draft quote was made of a deal's lines.
    public static let quoteCreated = "sales.quote.created"
    public static let quoteSent = "sales.quote.sent"
    /// Accepted; its deal's `sales.deal.won` comes in the same commit when the acceptance won it.
    public static let quoteAccepted = "sales.quote.accepted"
    public static let quoteRejected = "sales.quote.rejected"
    /// A sent quote's last valid day passed without a decision.
    public static let quoteExpired = "sales.quote.expired"

    public static let quoteTypes = [quoteCreated, quoteSent, quoteAccepted, quoteRejected, quoteExpired]

    public static let activityCreated = "sales.activity.created"
    public static let activityUpdated = "sales.activity.updated"
    /// A call, meeting or task was done. The contacts service logs a done call or meeting with a
    /// contact as an interaction on the contact's timeline.
    public static let activityCompleted = "sales.activity.completed"
    public static let activityDeleted = "sales.activity.deleted"

    public static let activityTypes = [activityCreated, activityUpdated, activityCompleted, activityDeleted]

    /// Every type above: the channels of its AsyncAPI file (ContractsTests holds them equal).
    public static let published = dealTypes + [dealOrderRequested] + leadTypes + quoteTypes + activityTypes
}

/// What the contacts service reads of `sales.activity.completed` (the activity document).
public struct CompletedActivity: Decodable, Sendable, Hashable {
    public var id: UUID
    /// `call`, `meeting` or `task`.
    public var kind: String
    public var subject: String
    public var notes: String?
    public var outcome: String?
    public var owner: String?
    public var contactId: UUID?
    public var dealId: UUID?
    public var doneAt: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, subject, notes, outcome, owner
        case contactId = "contact_id"
        case dealId = "deal_id"
        case doneAt = "done_at"
    }
}

/// What the contacts service reads of `sales.lead.converted` (the lead document).
public struct ConvertedLead: Decodable, Sendable, Hashable {
    public var id: UUID
    public var firstName: String?
    public var lastName: String?
    public var company: String?
    public var email: String?
    public var phone: String?
    public var source: String?
    public var owner: String?
    public var dealId: UUID?
    public var createAccount: Bool

    enum CodingKeys: String, CodingKey {
        case id, company, email, phone, source, owner
        case firstName = "first_name"
        case lastName = "last_name"
        case dealId = "deal_id"
        case createAccount = "create_account"
    }
}
