import Foundation
import ServiceKit

/// Which orders a list shows, newest first.
struct OrderFilter: Sendable {
    /// A contact's or an account's orders (an account's include those of its contacts).
    var customer: UUID?
    var account: UUID?
    var status: [OrderStatus]?
    var source: String?
    var from: Date?
    var to: Date?
    var deal: UUID?
    var page = PageRequest()
}
