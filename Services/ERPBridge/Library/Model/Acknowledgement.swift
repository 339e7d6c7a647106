import Foundation
import Messaging
import ServiceKit

/// The answer to every inbound message (`<source>.ack` on `erp.outbound`).
struct Acknowledgement: Encodable, Sendable {
    var messageId: String
    /// The kind of message answered: `order`, `customer_ack`, `control`, or what the routing key said.
    var answers: String
    var orderNumber: String?
    var result: InboundResult
    var crmOrderId: UUID?
    var matchedBy: String?
    var errors: [FieldError]

    static let messageType = "erp.ack"

    enum CodingKeys: String, CodingKey {
        case answers, result, errors
        case messageId = "message_id"
        case orderNumber = "order_number"
        case crmOrderId = "crm_order_id"
        case matchedBy = "matched_by"
    }

    /// Every member, null when absent, so an ERP reads one shape.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(messageId, forKey: .messageId)
        try container.encode(answers, forKey: .answers)
        try container.encode(orderNumber, forKey: .orderNumber)
        try container.encode(result.rawValue, forKey: .result)
        try container.encode(crmOrderId?.lowercased, forKey: .crmOrderId)
        try container.encode(matchedBy, forKey: .matchedBy)
        try container.encode(errors, forKey: .errors)
    }

    func message(to source: String, correlation: UUID) throws -> OutboundMessage {
        OutboundMessage(
            exchange: CRMTopology.erpOutboundExchange, routingKey: "\(source).ack", type: Self.messageType,
            body: String(decoding: try EventCoding.encoder.encode(self), as: UTF8.self), correlationId: correlation
        )
    }
}
