import Foundation

/// One contact with the customer, on any channel; what a client sends to log it.
public struct InteractionFields: Codable, Sendable, Hashable {
    public var channel: Channel
    public var direction: Direction
    /// When it happened; the time of the request when the client does not say.
    public var occurredAt: Date?
    public var subject: String?
    public var notes: String?
    public var outcome: String?
    public var recordedBy: String?
    public var dealId: UUID?
    public var ticketId: UUID?
    public var orderId: UUID?
    public var campaignId: UUID?

    public init(
        channel: Channel, direction: Direction, occurredAt: Date? = nil, subject: String? = nil, notes: String? = nil, outcome: String? = nil,
        recordedBy: String? = nil, dealId: UUID? = nil, ticketId: UUID? = nil, orderId: UUID? = nil, campaignId: UUID? = nil
    ) {
        self.channel = channel
        self.direction = direction
        self.occurredAt = occurredAt
        self.subject = subject
        self.notes = notes
        self.outcome = outcome
        self.recordedBy = recordedBy
        self.dealId = dealId
        self.ticketId = ticketId
        self.orderId = orderId
        self.campaignId = campaignId
    }

    enum CodingKeys: String, CodingKey {
        case channel, direction, subject, notes, outcome
        case occurredAt = "occurred_at"
        case recordedBy = "recorded_by"
        case dealId = "deal_id"
        case ticketId = "ticket_id"
        case orderId = "order_id"
        case campaignId = "campaign_id"
    }
}
