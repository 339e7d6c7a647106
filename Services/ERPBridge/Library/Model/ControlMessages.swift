import Foundation
import ServiceKit

/// `<source>.customer_ack`: the ERP's own number for a customer the CRM sent it.
struct CustomerAck: Sendable {
    var crmId: UUID
    var erpId: String

    static func parse(_ body: [UInt8]) -> Result<CustomerAck, Rejection> {
        var read = DocumentReader()
        guard let document = read.object(body: body) else { return .failure(Rejection(read.errors)) }
        let crmId = read.uuid(document["crm_id"], "crm_id")
        if document["crm_id"] == nil || document["crm_id"] is NSNull { read.fail("crm_id", "is required") }
        let erpId = read.text(document["erp_id"], "erp_id", required: true, maximum: 64)
        guard read.errors.isEmpty, let crmId, let erpId else { return .failure(Rejection(read.errors)) }
        return .success(CustomerAck(crmId: crmId, erpId: erpId))
    }
}

/// `<source>.control`: what the source holds for one day (by `ordered_at` in UTC), as lines
/// `order_number|version|status|gross`, and the SHA-256 of those lines sorted bytewise and joined
/// by line feeds, `gross` written with two decimals at least (`119.00`, `0.125`).
struct ControlTotals: Sendable {
    var date: String
    var orders: [Line]
    var digest: String

    struct Line: Sendable, Encodable {
        var orderNumber: String
        var version: Int64
        var status: String
        var gross: String

        enum CodingKeys: String, CodingKey {
            case version, status, gross
            case orderNumber = "order_number"
        }
    }

    static func parse(_ body: [UInt8]) -> Result<ControlTotals, Rejection> {
        var read = DocumentReader()
        guard let document = read.object(body: body) else { return .failure(Rejection(read.errors)) }
        let date = read.text(document["date"], "date", required: true, maximum: 10)
        if let date, !TextShapes.isISODate(date) { read.fail("date", "must be a date such as 2026-12-07") }
        let digest = read.text(document["digest"], "digest", required: true, maximum: 64)
        if let digest, digest.count != 64 || !digest.allSatisfy(\.isHexDigit) { read.fail("digest", "must be 64 hexadecimal digits") }
        var lines: [Line] = []
        for (index, value) in (read.array(document["orders"], "orders", required: true) ?? []).enumerated() {
            let path = "orders[\(index)]"
            guard let object = read.object(value, path, required: true) else { continue }
            let number = read.text(object["order_number"], "\(path).order_number", required: true, maximum: 64)
            let version = read.integer(object["version"], "\(path).version", required: true, in: 1...Int64(1) << 53)
            let status = read.oneOf(object["status"], "\(path).status", required: true, OrderStatus.self)
            let gross = read.decimal(object["gross"], "\(path).gross", required: true, negative: true)
            if let number, let version, let status, let gross {
                lines.append(Line(orderNumber: number, version: version, status: status.rawValue, gross: gross))
            }
        }
        guard read.errors.isEmpty, let date, let digest else { return .failure(Rejection(read.errors)) }
        return .success(ControlTotals(date: date, orders: lines, digest: digest.lowercased()))
    }
}
