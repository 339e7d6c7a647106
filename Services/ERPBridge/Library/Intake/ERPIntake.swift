import AMQP
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// What the sources publish to `erp.inbound` (Services/ERPBridge/asyncapi.yaml), taken in from
/// `erp_bridge.inbound`: orders, customer acknowledgements and control totals. Every message is
/// answered once on `erp.outbound` (`<source>.ack`), in the transaction of its effect. A message
/// the source sends again is answered `duplicate`; one the broker delivers again because its
/// first delivery's ack was lost (it is marked redelivered) was answered already and is not
/// answered twice. A rejected message is answered and dead-lettered; replayed, it is taken afresh.
struct ERPIntake: MessageIntake, ServiceStore {
    let service: ServiceDependencies
    let inbox: InboundMessages
    let writer: OrderWriter
    let matching: CustomerMatching
    let reconciliation: Reconciliation

    static let queueName = "erp_bridge.inbound"
    var queue: String { Self.queueName }

    var topology: Topology {
        Topology(
            queues: [
                .init(
                    name: Self.queueName,
                    arguments: [
                        "x-queue-type": "quorum",
                        "x-delivery-limit": .int(CRMTopology.defaultDeliveryLimit),
                        "x-dead-letter-exchange": .string(CRMTopology.deadLetterExchange),
                        "x-dead-letter-routing-key": .string(service.schema.rawValue),
                    ]
                )
            ],
            bindings: [.init(queue: Self.queueName, exchange: CRMTopology.erpInboundExchange, routingKey: "#")]
        )
    }

    /// One customer's messages share a lane: their orders wait on that customer's lock anyway. The
    /// customer number is found by a scan for `"erp_id"`, not a parse: this runs in the one loop
    /// that hands every delivery to its lane.
    func laneKey(of delivery: Delivery) -> String {
        delivery.routingKey + "|" + (Self.firstString(after: Array(#""erp_id""#.utf8), in: delivery.body) ?? delivery.properties.messageId ?? "")
    }

    /// The text of the first JSON string after `key` (and its colon) in `body`, unescaped as it is.
    static func firstString(after key: [UInt8], in body: [UInt8]) -> String? {
        guard body.count >= key.count else { return nil }
        var index = 0
        while index + key.count <= body.count {
            if body[index] == key[0], body[index..<(index + key.count)].elementsEqual(key) {
                var cursor = index + key.count
                while cursor < body.count, body[cursor] == UInt8(ascii: " ") || body[cursor] == UInt8(ascii: ":") { cursor += 1 }
                guard cursor < body.count, body[cursor] == UInt8(ascii: "\"") else { return nil }
                let start = cursor + 1
                guard let end = body[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                return String(decoding: body[start..<end], as: UTF8.self)
            }
            index += 1
        }
        return nil
    }

    func deadLetterHeaders(of delivery: Delivery) -> AMQPTable {
        ["x-source": .string(InboundMessages.Address(delivery).source)]
    }

    func apply(_ deliveries: [Delivery], context: EventContext) async throws -> [IntakeOutcome] {
        var outcomes: [IntakeOutcome] = []
        for delivery in deliveries { outcomes.append(try await apply(delivery, on: context.connection)) }
        return outcomes
    }

    func reject(_ delivery: Delivery, reason: String, context: EventContext) async throws {
        let address = InboundMessages.Address(delivery)
        _ = try await inbox.claim(address, on: context.connection)
        try await answer(address, Answer(result: .rejected, errors: [FieldError("", reason)]), delivery: delivery, on: context.connection)
    }

    private func apply(_ delivery: Delivery, on connection: PostgresConnection) async throws -> IntakeOutcome {
        let address = InboundMessages.Address(delivery)
        switch try await inbox.claim(address, on: connection) {
        case .new:
            break
        case let .seen(.rejected, _, errors):
            // Answered and dead-lettered before this delivery was lost: dead-lettered again, not answered.
            if delivery.redelivered { return .rejected(FieldError.summary(errors)) }
        case let .seen(_, orderId, _):
            if !delivery.redelivered {
                var matchedBy: String?
                if let orderId { matchedBy = try await self.matchedBy(order: orderId, on: connection) }
                try await send(address, Answer(result: .duplicate, orderId: orderId, matchedBy: matchedBy), delivery: delivery, on: connection)
            }
            return .applied
        }
        let answer = try await answer(to: delivery, address, on: connection)
        try await self.answer(address, answer, delivery: delivery, on: connection)
        return answer.result == .rejected ? .rejected(FieldError.summary(answer.errors)) : .applied
    }

    private func answer(to delivery: Delivery, _ address: InboundMessages.Address, on connection: PostgresConnection) async throws -> Answer {
        guard try await inbox.isActive(address.source, on: connection) else {
            return Answer(result: .rejected, errors: [FieldError("", "'\(address.source)' is not a source the CRM takes messages from")])
        }
        let correlation = UUID.timeOrdered()
        switch address.kind {
        case "order":
            switch InboundOrder.parse(delivery.body) {
            case let .failure(rejection):
                return Answer(result: .rejected, errors: rejection.errors)
            case let .success(order):
                let outcome = try await writer.write(order, source: address.source, correlation: correlation, on: connection)
                return Answer(
                    result: outcome.result, orderId: outcome.orderId, matchedBy: outcome.matchedBy, errors: outcome.errors, orderNumber: order.orderNumber
                )
            }
        case "customer_ack":
            switch CustomerAck.parse(delivery.body) {
            case let .failure(rejection):
                return Answer(result: .rejected, errors: rejection.errors)
            case let .success(ack):
                return try await link(ack, source: address.source, correlation: correlation, on: connection)
            }
        case "control":
            switch ControlTotals.parse(delivery.body) {
            case let .failure(rejection):
                return Answer(result: .rejected, errors: rejection.errors)
            case let .success(control):
                try await reconciliation.answer(control, source: address.source, correlation: correlation, on: connection)
                return Answer(result: .accepted)
            }
        default:
            return Answer(result: .rejected, errors: [FieldError("routing_key", "must be <source>.order, <source>.customer_ack or <source>.control")])
        }
    }

    /// The ERP's number for a customer the CRM sent it: linked, unless the CRM id names nobody.
    private func link(_ ack: CustomerAck, source: String, correlation: UUID, on connection: PostgresConnection) async throws -> Answer {
        var sql = SQLBuilder()
        sql.append("""
            SELECT EXISTS (SELECT 1 FROM \(schema.table("crm_accounts")) WHERE id = \(try sql.bind(ack.crmId)) AND NOT deleted),
                EXISTS (SELECT 1 FROM \(schema.table("crm_contacts")) WHERE id = \(try sql.bind(ack.crmId)) AND NOT deleted)
            """)
        var kinds = (account: false, contact: false)
        for try await row in try await connection.query(sql.query, logger: logger).decode((Bool, Bool).self) { kinds = row }
        guard kinds.account || kinds.contact else {
            return Answer(result: .rejected, errors: [FieldError("crm_id", "names no customer the CRM has")])
        }
        let match = kinds.account ? CustomerMatch(accountId: ack.crmId, matchedBy: "customer_ack") : CustomerMatch(contactId: ack.crmId, matchedBy: "customer_ack")
        try await matching.lock(source: source, erpId: ack.erpId, on: connection)
        _ = try await matching.link(match, source: source, erpId: ack.erpId, correlation: correlation, on: connection)
        return Answer(result: .accepted, matchedBy: "customer_ack")
    }

    private func matchedBy(order: UUID, on connection: PostgresConnection) async throws -> String? {
        var sql = SQLBuilder()
        sql.append("SELECT matched_by FROM \(schema.table("orders")) WHERE id = \(try sql.bind(order))")
        for try await value in try await connection.query(sql.query, logger: logger).decode(String.self) { return value }
        return nil
    }

    struct Answer {
        var result: InboundResult
        var orderId: UUID?
        var matchedBy: String?
        var errors: [FieldError] = []
        /// Known when the order was read; otherwise looked for in the body.
        var orderNumber: String?
    }

    /// Records the answer in the inbox and sends it.
    private func answer(_ address: InboundMessages.Address, _ answer: Answer, delivery: Delivery, on connection: PostgresConnection) async throws {
        try await inbox.finish(address, result: answer.result, orderId: answer.orderId, errors: answer.errors, on: connection)
        try await send(address, answer, delivery: delivery, on: connection)
    }

    private func send(_ address: InboundMessages.Address, _ answer: Answer, delivery: Delivery, on connection: PostgresConnection) async throws {
        let acknowledgement = Acknowledgement(
            messageId: address.messageId, answers: address.kind,
            orderNumber: answer.orderNumber ?? (address.kind == "order" ? Self.orderNumber(in: delivery.body) : nil), result: answer.result,
            crmOrderId: answer.orderId, matchedBy: answer.matchedBy, errors: answer.errors
        )
        try await outbox.append([try acknowledgement.message(to: address.source, correlation: .timeOrdered())], on: connection, logger: logger)
    }

    /// The order number a body names, if it names one as text: an answer to a rejected order still says which.
    static func orderNumber(in body: [UInt8]) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        return (object?["order_number"] as? String).map { String($0.prefix(64)) }
    }
}
