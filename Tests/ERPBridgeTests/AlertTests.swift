import ERPBridgeService
import Foundation
import Messaging
import PostgresNIO
import ServiceKit
import Storage
import Testing
import TestSupport

/// Each suspicious-transaction rule on a crafted history, and an ordinary customer's history on
/// which none fires; with the default thresholds (5 orders a day, z-score 3 over at least 5 orders
/// in 90 days, half of at least 3 paid invoices paid after dunning).
@Suite("Suspicious transactions")
struct AlertTests {
    static func order(
        _ number: String, customer: String, version: Int = 1, status: String = "placed", day: Int = 1, hour: Int = 9, gross: String = "100.00",
        sku: String = "SKU-1", delivered: String = "0", dunning: Int = 0, paidDay: Int? = nil, creditLimit: String? = nil
    ) -> [String: Any] {
        var customerDocument: [String: Any] = ["erp_id": customer, "name": "Customer \(customer)"]
        if let creditLimit { customerDocument["credit_limit"] = creditLimit }
        var payment: [String: Any] = ["terms_days": 30, "dunning_level": dunning]
        if let paidDay { payment["paid_at"] = String(format: "2026-10-%02dT12:00:00Z", paidDay) }
        return [
            "order_number": number, "version": version, "status": status, "status_at": String(format: "2026-10-%02dT%02d:00:00Z", day, hour),
            "ordered_at": String(format: "2026-10-%02dT%02d:00:00Z", day, hour), "customer": customerDocument, "currency": "EUR",
            "lines": [["line_no": 1, "sku": sku, "quantity": "2", "line_total": gross, "delivered_quantity": delivered]],
            "totals": ["gross": gross], "payment": payment,
        ]
    }

    /// The rules that fired, by order number.
    static func alerts(_ checks: BridgeIntake) async throws -> [String: Set<String>] {
        let schema = checks.service.schema
        let rows = try await checks.service.client.query(
            PostgresQuery(unsafeSQL: """
                SELECT o.order_number, a.rule FROM \(schema.table("alerts")) a JOIN \(schema.table("orders")) o ON o.id = a.order_id
                """),
            logger: checks.service.logger
        )
        var found: [String: Set<String>] = [:]
        for try await (number, rule) in rows.decode((String, String).self) { found[number, default: []].insert(rule) }
        return found
    }

    func deliver(_ checks: BridgeIntake, _ orders: [[String: Any]]) async throws {
        for order in orders { try await checks.deliver(order, id: UUID().uuidString) }
    }

    @Test("an ordinary customer: a few orders a month of similar amounts, delivered, invoiced, paid on time, raise nothing")
    func ordinary() async throws {
        try await BridgeIntake.run { checks in
            for (n, gross) in ["100.00", "112.00", "94.50", "108.00", "99.00", "103.00", "121.00"].enumerated() {
                let number = "O-\(n)"
                let day = 1 + n * 4
                for (version, status) in ["placed", "confirmed", "shipped", "delivered", "invoiced", "paid"].enumerated() {
                    try await deliver(checks, [Self.order(
                        number, customer: "ORD", version: version + 1, status: status, day: day, gross: gross, sku: "SKU-\(n)",
                        delivered: version >= 3 ? "2" : "0", paidDay: status == "paid" ? day + 2 : nil, creditLimit: "5000.00"
                    )])
                }
            }
            #expect(try await Self.alerts(checks) == [:])
        }
    }

    @Test("many orders in 24 hours; an amount far above the customer's own pattern; the same order twice")
    func volumeAmountDuplicate() async throws {
        try await BridgeIntake.run { checks in
            try await deliver(checks, (0..<6).map { Self.order("B-\($0)", customer: "BURST", day: 20, hour: 8 + $0, sku: "S\($0)") })
            try await deliver(checks, ["100.00", "110.00", "90.00", "105.00", "95.00"].enumerated().map {
                Self.order("Z-\($0.offset)", customer: "ZED", day: 1 + $0.offset * 5, gross: $0.element, sku: "S\($0.offset)")
            } + [Self.order("Z-big", customer: "ZED", day: 28, gross: "1000.00")])
            try await deliver(checks, [
                Self.order("D-1", customer: "DUP", day: 3, hour: 9, gross: "250.00"), Self.order("D-2", customer: "DUP", day: 3, hour: 15, gross: "250.00"),
            ])
            let found = try await Self.alerts(checks)
            #expect(found == ["B-5": ["order_burst"], "Z-big": ["unusual_amount"], "D-2": ["possible_duplicate"]])
        }
    }

    @Test("credit exposure above the ERP's limit; a customer who pays only after dunning")
    func creditAndDunning() async throws {
        try await BridgeIntake.run { checks in
            try await deliver(checks, [
                Self.order("C-1", customer: "CREDIT", status: "invoiced", day: 2, gross: "300.00", sku: "A", creditLimit: "500.00"),
                Self.order("C-2", customer: "CREDIT", status: "confirmed", day: 9, gross: "300.00", sku: "B", creditLimit: "500.00"),
            ])
            try await deliver(checks, (0..<3).map {
                Self.order("P-\($0)", customer: "LATE", version: 2, status: "paid", day: 1 + $0 * 7, sku: "S\($0)", dunning: 2, paidDay: 5 + $0 * 7)
            })
            let found = try await Self.alerts(checks)
            #expect(found == ["C-2": ["credit_exposure"], "P-2": ["pays_after_dunning"]])
        }
    }

    @Test("impossible sequences by the ERP's own versions, in whatever order they arrive")
    func impossibleSequences() async throws {
        try await BridgeIntake.run { checks in
            // Paid at version 2, invoiced at version 3: the later version arrives first.
            try await deliver(checks, [
                Self.order("I-1", customer: "SEQ", version: 3, status: "invoiced", day: 4, sku: "A"),
                Self.order("I-1", customer: "SEQ", version: 2, status: "paid", day: 4, sku: "A"),
            ])
            try await deliver(checks, [
                Self.order("I-2", customer: "SEQ", version: 1, status: "delivered", day: 6, sku: "B", delivered: "2"),
                Self.order("I-2", customer: "SEQ", version: 2, status: "cancelled", day: 6, sku: "B", delivered: "2"),
                Self.order("I-3", customer: "SEQ", version: 1, status: "returned", day: 8, sku: "C"),
            ])
            let found = try await Self.alerts(checks)
            #expect(found == ["I-1": ["impossible_sequence"], "I-2": ["impossible_sequence"], "I-3": ["impossible_sequence"]])
        }
    }

    @Test("an alert is raised once, published, and decided once with a comment")
    func decided() async throws {
        try await BridgeIntake.run { checks in
            try await deliver(checks, [Self.order("R-1", customer: "RET", status: "returned"), Self.order("R-1", customer: "RET", version: 2, status: "returned")])
            #expect(try await checks.payloads("type = $1", "erp.alert.raised").count == 1)
            let open = try await checks.api.get("/api/v1/alerts?status=open")
            let alert = try #require((open.json["items"] as? [[String: Any]])?.first)
            #expect(alert["rule"] as? String == "impossible_sequence" && alert["order_number"] as? String == "R-1")
            #expect((alert["reasons"] as? [String])?.contains("returned without anything delivered") == true)
            let id = try #require(alert["id"] as? String)
            let silent = try await checks.api.post("/api/v1/alerts/\(id)/dismiss", [String: Any]())
            #expect(silent.status == 422 && silent.text.contains("comment"), "\(silent.text)")
            let dismissed = try await checks.api.post("/api/v1/alerts/\(id)/dismiss", ["comment": "a return of a sample, booked that way"])
            #expect(dismissed.status == 200 && dismissed.json["status"] as? String == "dismissed", "\(dismissed.text)")
            #expect(dismissed.json["decided_by"] as? String == "admin")
            let again = try await checks.api.post("/api/v1/alerts/\(id)/acknowledge", ["comment": "twice"])
            #expect(again.status == 409, "\(again.text)")
            #expect((try await checks.api.get("/api/v1/alerts?status=open").json["items"] as? [Any])?.isEmpty == true)
            let settings = try await checks.api.send("PATCH", "/api/v1/alert-settings", json: ["orders_per_day": 0])
            #expect(settings.status == 422 && settings.text.contains("orders_per_day"), "\(settings.text)")
            let changed = try await checks.api.send("PATCH", "/api/v1/alert-settings", json: ["orders_per_day": 12])
            #expect(changed.json["orders_per_day"] as? Int == 12 && changed.json["amount_z_score"] as? Double == 3, "\(changed.text)")
        }
    }
}
