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

    /// Orders that parse are written in runs (`OrderWriter`) that end before a message that is not
    /// one or that repeats a message id or an order number of the run; every other message is
    /// taken alone, in its place.
    func apply(_ deliveries: [Delivery], context: EventContext) async throws -> [IntakeOutcome] {
        let connection = context.connection
        var outcomes: [IntakeOutcome] = []
        var run: [PendingOrder] = []
        for delivery in deliveries {
            let address = InboundMessages.Address(delivery)
            var pending: PendingOrder?
            if address.kind == "order", case let .success(order) = InboundOrder.parse(delivery.body) {
                pending = PendingOrder(delivery: delivery, address: address, order: order)
            }
            if let pending, !run.contains(where: { $0.clashes(with: pending) }) {
                run.append(pending)
                continue
            }
            outcomes += try await write(run, on: connection)
            run = pending.map { [$0] } ?? []
            if pending == nil { outcomes.append(try await applyAlone(delivery, address, on: connection)) }
        }
        outcomes += try await write(run, on: connection)
        return outcomes
    }

    func reject(_ delivery: Delivery, reason: String, context: EventContext) async throws {
        let address = InboundMessages.Address(delivery)
        _ = try await inbox.claim(address, on: context.connection)
        try await answer([(address, Answer(result: .rejected, errors: [FieldError("", reason)]), delivery)], on: context.connection)
    }

    private struct PendingOrder {
        var delivery: Delivery
        var address: InboundMessages.Address
        var order: InboundOrder

        func clashes(with other: PendingOrder) -> Bool {
            address.source == other.address.source
                && (address.messageId == other.address.messageId || order.orderNumber == other.order.orderNumber)
        }
    }

    /// A run of orders: those new to the inbox written together and answered together; those seen
    /// before, or from a source that may not publish, answered as `applyAlone` answers them.
    private func write(_ run: [PendingOrder], on connection: PostgresConnection) async throws -> [IntakeOutcome] {
        guard !run.isEmpty else { return [] }
        let taken = try await inbox.claimNew(run.map(\.address), on: connection)
        let new = run.indices.filter { taken[$0] }
        let results = try await writer.write(new.map { IncomingOrder(order: run[$0].order, source: run[$0].address.source) }, on: connection)
        var answers: [Int: Answer] = [:]
        for (index, result) in zip(new, results) {
            answers[index] = Answer(
                result: result.result, orderId: result.orderId, matchedBy: result.matchedBy, errors: result.errors,
                orderNumber: run[index].order.orderNumber
            )
        }
        try await answer(new.map { (run[$0].address, answers[$0]!, run[$0].delivery) }, on: connection)
        var outcomes: [IntakeOutcome] = []
        for (index, pending) in run.enumerated() {
            if let answer = answers[index] {
                outcomes.append(answer.result == .rejected ? .rejected(FieldError.summary(answer.errors)) : .applied)
            } else {
                outcomes.append(try await applyAlone(pending.delivery, pending.address, on: connection))
            }
        }
        return outcomes
    }

    private func applyAlone(_ delivery: Delivery, _ address: InboundMessages.Address, on connection: PostgresConnection) async throws -> IntakeOutcome {
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
                let answer = Answer(result: .duplicate, orderId: orderId, matchedBy: matchedBy)
                try await outbox.append([try acknowledgement(address, answer, delivery: delivery)], on: connection, logger: logger)
            }
            return .applied
        }
        let answer = try await answer(to: delivery, address, on: connection)
        try await self.answer([(address, answer, delivery)], on: connection)
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
                let outcome = try await writer.write([IncomingOrder(order: order, source: address.source)], on: connection)[0]
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

    /// Records the answers in the inbox and sends them, in one statement.
    private func answer(_ answers: [(InboundMessages.Address, Answer, Delivery)], on connection: PostgresConnection) async throws {
        guard !answers.isEmpty else { return }
        var sql = SQLBuilder()
        sql.append("WITH answered AS (")
        try inbox.appendFinish(answers.map { ($0.0, $0.1.result, $0.1.orderId, $0.1.errors) }, into: &sql)
        sql.append("), sent AS (")
        try outbox.appendMessages(try answers.map { try acknowledgement($0.0, $0.1, delivery: $0.2) }, into: &sql)
        sql.append(") SELECT 1 FROM \(try outbox.notification(into: &sql))")
        try await connection.query(sql.query, logger: logger)
    }

    private func acknowledgement(_ address: InboundMessages.Address, _ answer: Answer, delivery: Delivery) throws -> OutboundMessage {
        try Acknowledgement(
            messageId: address.messageId, answers: address.kind,
            orderNumber: answer.orderNumber ?? (address.kind == "order" ? Self.orderNumber(in: delivery.body) : nil), result: answer.result,
            crmOrderId: answer.orderId, matchedBy: answer.matchedBy, errors: answer.errors
        ).message(to: address.source, correlation: .timeOrdered())
    }

    /// The order number a body names, if it names one as text: an answer to a rejected order still says which.
    static func orderNumber(in body: [UInt8]) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        return (object?["order_number"] as? String).map { String($0.prefix(64)) }
    }
}
