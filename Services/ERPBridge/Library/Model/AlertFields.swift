import Foundation
import ServiceKit

enum AlertRule: String, CaseIterable, Sendable {
    case orderBurst = "order_burst"
    case unusualAmount = "unusual_amount"
    case possibleDuplicate = "possible_duplicate"
    case creditExposure = "credit_exposure"
    case paysAfterDunning = "pays_after_dunning"
    case impossibleSequence = "impossible_sequence"
}

enum AlertStatus: String, CaseIterable, Sendable {
    case open, acknowledged, dismissed
}

/// Which alerts a list shows, the newest first.
struct AlertFilter: Sendable {
    var status: [AlertStatus]?
    var rule: AlertRule?
    var customer: UUID?
    var source: String?
    var order: UUID?
    var page = PageRequest()
}

/// Someone's decision on an open alert: acknowledged (looked into) or dismissed (nothing wrong).
struct AlertDecision: Decodable, Sendable {
    var comment: String?

    /// The comment, required: the next person reads why.
    func validated() throws(ERPBridgeError) -> String {
        var check = FieldChecker()
        let comment = check.text(comment, "comment", required: true, maximum: 2000)
        try check.check(ERPBridgeError.invalid)
        return comment ?? ""
    }
}

/// The rules' thresholds as an admin changes them (`alert_settings`); absent members stay.
struct AlertSettingsPatch: Decodable, Sendable {
    var ordersPerDay: Int?
    var amountZScore: Double?
    var amountHistoryMinimum: Int?
    var dunningShare: Double?
    var dunningMinimum: Int?

    enum CodingKeys: String, CodingKey {
        case ordersPerDay = "orders_per_day"
        case amountZScore = "amount_z_score"
        case amountHistoryMinimum = "amount_history_minimum"
        case dunningShare = "dunning_share"
        case dunningMinimum = "dunning_minimum"
    }

    func validated() throws(ERPBridgeError) -> AlertSettingsPatch {
        var check = FieldChecker()
        if let ordersPerDay, !(1...10_000).contains(ordersPerDay) { check.fail("orders_per_day", "must be 1 to 10000") }
        if let amountZScore, !(amountZScore > 0 && amountZScore <= 100) { check.fail("amount_z_score", "must be above 0, at most 100") }
        if let amountHistoryMinimum, !(2...10_000).contains(amountHistoryMinimum) { check.fail("amount_history_minimum", "must be 2 to 10000") }
        if let dunningShare, !(dunningShare > 0 && dunningShare <= 1) { check.fail("dunning_share", "must be above 0, at most 1") }
        if let dunningMinimum, !(1...10_000).contains(dunningMinimum) { check.fail("dunning_minimum", "must be 1 to 10000") }
        try check.check(ERPBridgeError.invalid)
        return self
    }
}
