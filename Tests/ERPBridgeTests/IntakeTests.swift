import AMQP
import Contracts
import ERPBridgeService
import Foundation
import Messaging
import PostgresNIO
import ServiceKit
import Storage
import Testing
import TestSupport

/// The bridge's intake driven in-process on a schema of each test's own: deliveries handed to it
/// as the intake consumer hands them, each in its own transaction; answers and events read from
/// the outbox. What the broker adds (routing, permissions, dead letters) is Tests/ERP/run.py's.
struct BridgeIntake {
    let api: APIClient
    let service: ServiceDependencies
    let intake: any MessageIntake

    static func run(_ body: @Sendable (BridgeIntake) async throws -> Void) async throws {
        try await InProcessService.run(ERPBridgeService.definition) { api, service in
            let makeIntake = try #require(ERPBridgeService.definition.intake)
            let checks = BridgeIntake(api: api, service: service, intake: makeIntake(service))
            try await checks.addSource("acme")
            try await body(checks)
        }
    }

    func addSource(_ name: String) async throws {
        _ = try await service.client.write(
            PostgresQuery(unsafeSQL: "INSERT INTO \(service.schema.table("sources")) (name) VALUES ($1)", binds: try .of(name)), logger: service.logger
        )
    }

    static func order(_ number: String, version: Int = 1, status: String = "placed", customer: [String: Any]? = nil) -> [String: Any] {
        [
            "order_number": number, "version": version, "status": status, "status_at": "2026-12-0\(min(version, 9))T10:00:00Z",
            "ordered_at": "2026-12-01T09:00:00Z", "customer": customer ?? ["erp_id": "C-\(number)", "name": "Erika Musterfrau"],
            "currency": "EUR", "lines": [["line_no": 1, "quantity": "2", "line_total": "100.00"]], "totals": ["gross": "119.00"],
        ]
    }

    @discardableResult
    func deliver(_ body: Any, kind: String = "order", source: String = "acme", id: String, redelivered: Bool = false) async throws -> IntakeOutcome {
        try await deliverTogether([Self.delivery(body, kind: kind, source: source, id: id, redelivered: redelivered)])[0]
    }

    /// Deliveries applied in one transaction, as a lane's batch is.
    func deliverTogether(_ deliveries: [Delivery]) async throws -> [IntakeOutcome] {
        let (intake, outbox, logger) = (intake, service.outbox, service.logger)
        return try await service.client.transaction(logger: logger) { connection in
            try await intake.apply(deliveries, context: EventContext(connection: connection, outbox: outbox, logger: logger))
        }
    }

    static func delivery(_ body: Any, kind: String = "order", source: String = "acme", id: String, redelivered: Bool = false) throws -> Delivery {
        let bytes = body is String ? Array((body as! String).utf8) : Array(try JSONSerialization.data(withJSONObject: body))
        return Delivery(
            exchange: CRMTopology.erpInboundExchange, routingKey: "\(source).\(kind)", redelivered: redelivered, body: bytes,
            properties: MessageProperties(messageId: id)
        )
    }

    /// The answers sent for a message, oldest first.
    func answers(_ id: String) async throws -> [[String: Any]] {
        try await payloads("type = 'erp.ack' AND payload->>'message_id' = $1", id)
    }

    func payloads(_ condition: String, _ value: String) async throws -> [[String: Any]] {
        let rows = try await service.client.texts(
            PostgresQuery(unsafeSQL: "SELECT payload::text FROM \(service.schema.table("outbox")) WHERE \(condition) ORDER BY seq", binds: try .of(value)),
            logger: service.logger
        )
        return try rows.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }
}

@Suite("ERP intake")
struct IntakeTests {
    static func run(_ body: @Sendable (BridgeIntake) async throws -> Void) async throws { try await BridgeIntake.run(body) }

    static func order(_ number: String, version: Int = 1, status: String = "placed", customer: [String: Any]? = nil) -> [String: Any] {
        BridgeIntake.order(number, version: version, status: status, customer: customer)
    }

    @Test("a message sent again is answered duplicate; one the broker delivers again is not answered twice")
    func duplicates() async throws {
        try await Self.run { checks in
            #expect(try await checks.deliver(Self.order("A-1"), id: "m1") == .applied)
            #expect(try await checks.deliver(Self.order("A-1"), id: "m1", redelivered: true) == .applied)
            #expect(try await checks.answers("m1").map { $0["result"] as? String } == ["accepted"])
            #expect(try await checks.deliver(Self.order("A-1"), id: "m1") == .applied)
            let answers = try await checks.answers("m1")
            #expect(answers.map { $0["result"] as? String } == ["accepted", "duplicate"])
            #expect(answers[1]["crm_order_id"] as? String == answers[0]["crm_order_id"] as? String)
            #expect(answers[1]["matched_by"] as? String == "created")
            #expect(try await checks.payloads("type = $1", ERPEvents.orderReceived).count == 1)
        }
    }

    @Test("a rejection is answered once per attempt: a redelivery is dead-lettered again unanswered, a replay taken afresh")
    func rejections() async throws {
        try await Self.run { checks in
            #expect(try await checks.deliver("{oops", id: "bad") == .rejected("the body is not JSON"))
            #expect(try await checks.deliver("{oops", id: "bad", redelivered: true) == .rejected("the body is not JSON"))
            #expect(try await checks.answers("bad").count == 1)
            #expect(try await checks.deliver(Self.order("B-1"), id: "bad") == .applied)
            #expect(try await checks.answers("bad").map { $0["result"] as? String } == ["rejected", "accepted"])
            let unknown = try await checks.deliver(Self.order("B-2"), source: "nobody", id: "n1")
            #expect(unknown == .rejected("'nobody' is not a source the CRM takes messages from"))
            #expect(try await checks.deliver(["x": 1], kind: "orders", id: "k1") == .rejected("routing_key: must be <source>.order, <source>.customer_ack or <source>.control"))
        }
    }

    @Test("the newest version wins in any order; older ones are stale but join the history")
    func versions() async throws {
        try await Self.run { checks in
            try await checks.deliver(Self.order("V-1", version: 3, status: "shipped"), id: "v3")
            try await checks.deliver(Self.order("V-1", version: 1, status: "placed"), id: "v1")
            try await checks.deliver(Self.order("V-1", version: 2, status: "confirmed"), id: "v2")
            try await checks.deliver(Self.order("V-1", version: 4, status: "delivered"), id: "v4")
            let results = try await ["v3", "v1", "v2", "v4"].asyncMap { try await checks.answers($0).first?["result"] as? String }
            #expect(results == ["accepted", "stale", "stale", "accepted"])
            let document = try await checks.payloads("type = $1", ERPEvents.orderStatusChanged).last
            #expect(document?["aggregate_version"] as? Int == 4)
            let data = document?["data"] as? [String: Any]
            let history = (data?["status_history"] as? [[String: Any]] ?? []).map { "\($0["version"] ?? "")\($0["status"] ?? "")" }
            #expect(data?["status"] as? String == "delivered")
            #expect(history == ["1placed", "2confirmed", "3shipped", "4delivered"])
        }
    }

    @Test("a lane's batch is taken as its messages one by one: two versions of an order, a resend, a bad body, a new customer twice")
    func batch() async throws {
        try await Self.run { checks in
            let customer: [String: Any] = ["erp_id": "NEW-2", "name": "Lena Brandt", "email": "lena@example.net"]
            let nobody: [String: Any] = ["erp_id": "K-9", "crm_account_id": UUID().lowercased]
            let outcomes = try await checks.deliverTogether([
                try BridgeIntake.delivery(Self.order("X-1", customer: customer), id: "b1"),
                try BridgeIntake.delivery(Self.order("X-2", customer: customer), id: "b2"),
                try BridgeIntake.delivery(Self.order("X-1", version: 2, status: "confirmed", customer: customer), id: "b3"),
                try BridgeIntake.delivery("{oops", id: "b4"),
                try BridgeIntake.delivery(Self.order("X-1", customer: customer), id: "b1"),
                try BridgeIntake.delivery(Self.order("X-3", customer: nobody), id: "b6"),
                try BridgeIntake.delivery(Self.order("X-1", customer: customer), id: "b7"),
            ])
            #expect(outcomes == [
                .applied, .applied, .applied, .rejected("the body is not JSON"), .applied,
                .rejected("customer.crm_account_id: names no account the CRM has"), .applied,
            ])
            let results = try await ["b1", "b2", "b3", "b4", "b6", "b7"].asyncMap { id in
                try await checks.answers(id).map { "\($0["result"] ?? "")/\($0["matched_by"] as? String ?? "-")" }
            }
            #expect(results == [
                ["accepted/created", "duplicate/created"], ["accepted/erp_id"], ["accepted/created"], ["rejected/-"], ["rejected/-"],
                ["stale/created"],
            ])
            #expect(try await checks.payloads("type = $1", ERPEvents.prospectRequested).count == 1)
            #expect(try await checks.payloads("type = $1", ERPEvents.orderReceived).count == 2)
            let changed = try await checks.payloads("type = $1", ERPEvents.orderStatusChanged)
            let data = changed.first?["data"] as? [String: Any]
            #expect(changed.count == 1)
            #expect((data?["status_history"] as? [[String: Any]] ?? []).map { "\($0["version"] ?? "")\($0["status"] ?? "")" } == ["1placed", "2confirmed"])
        }
    }

    @Test("five orders of one unknown customer applied at once ask for one prospect, and all name it")
    func oneProspect() async throws {
        try await Self.run { checks in
            let customer: [String: Any] = ["erp_id": "NEW-1", "name": "Jonas Neumann", "email": "jonas@example.net"]
            let bodies = try (0..<5).map { String(decoding: try JSONSerialization.data(withJSONObject: Self.order("N-\($0)", customer: customer)), as: UTF8.self) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (n, body) in bodies.enumerated() {
                    group.addTask { try await checks.deliver(body, id: "n\(n)") }
                }
                try await group.waitForAll()
            }
            let requests = try await checks.payloads("type = $1", ERPEvents.prospectRequested)
            #expect(requests.count == 1)
            let requested = (requests.first?["data"] as? [String: Any])?["id"] as? String
            let orders = try await checks.payloads("type = $1", ERPEvents.orderReceived)
            #expect(orders.count == 5)
            #expect(Set(orders.map { ($0["data"] as? [String: Any])?["contact_id"] as? String }) == [requested])
            let matched = try await (0..<5).asyncMap { try await checks.answers("n\($0)").first?["matched_by"] as? String }
            #expect(matched.sorted { ($0 ?? "") < ($1 ?? "") } == ["created", "erp_id", "erp_id", "erp_id", "erp_id"])
        }
    }
}

extension Sequence where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
