import Foundation
import ServiceKit
import Testing
import TestSupport

@testable import ERPBridgeService

/// What a source publishes, read as the contract says: the golden fixtures are taken, and every
/// fault of a body is named by its field in one rejection.
@Suite("Inbound ERP documents")
struct InboundOrderTests {
    static func fixture(_ name: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ContractsTests/Fixtures/erp/\(name).json")
        return try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    static func body(_ object: Any) throws -> [UInt8] { Array(try JSONSerialization.data(withJSONObject: object)) }

    static func faults(_ object: Any) throws -> [String] {
        switch InboundOrder.parse(try body(object)) {
        case .success: return []
        case let .failure(rejection): return rejection.errors.map(\.field).sorted()
        }
    }

    @Test("the golden order, customer_ack and control are taken")
    func fixturesTaken() throws {
        let order = try InboundOrder.parse(try Self.body(try Self.fixture("order"))).get()
        #expect(order.orderNumber == "A-1001" && order.version == 3 && order.status == .shipped && order.lines.count == 3)
        #expect(order.gross == "119.00" && order.lines[0].serialNumbers == ["SN-A-1001-1"])
        _ = try CustomerAck.parse(try Self.body(try Self.fixture("customerAck"))).get()
        let control = try ControlTotals.parse(try Self.body(try Self.fixture("control"))).get()
        #expect(control.orders.count == 2)
    }

    @Test("each fault is named: missing, wrong type, outside the enum, a number for an amount, a repeated line")
    func faultsNamed() throws {
        var order = try Self.fixture("order")
        order["status"] = "lost"
        order["version"] = true
        order["ordered_at"] = "yesterday"
        order.removeValue(forKey: "currency")
        var customer = order["customer"] as? [String: Any] ?? [:]
        customer.removeValue(forKey: "erp_id")
        customer["email"] = "not an address"
        order["customer"] = customer
        var lines = order["lines"] as? [[String: Any]] ?? []
        lines[1]["line_no"] = 1
        lines[2]["line_total"] = 39.66
        order["lines"] = lines
        order["totals"] = ["gross": "1,190.00"]
        #expect(try Self.faults(order) == [
            "currency", "customer.email", "customer.erp_id", "lines[1].line_no", "lines[2].line_total", "ordered_at", "status",
            "totals.gross", "version",
        ])
        #expect(try Self.faults(["order_number": "x"]).count == 8)
        switch InboundOrder.parse(Array("{not json".utf8)) {
        case .success: Issue.record("took a body that is not JSON")
        case let .failure(rejection): #expect(rejection.errors.map(\.field) == [""])
        }
    }

    @Test("a whole number is a version, 1 is not true, and a fraction is not a whole number")
    func numbers() throws {
        var order = try Self.fixture("order")
        order["version"] = 1
        #expect(try Self.faults(order) == [])
        order["version"] = 1.5
        #expect(try Self.faults(order) == ["version"])
        order["version"] = 0
        #expect(try Self.faults(order) == ["version"])
    }
}
