import Contracts
import Foundation
import ServiceKit

// What lists are asked for, as the stores take it; Routes/ListQueries.swift reads it from the query.

/// Which call lists a list shows.
struct CallListFilter: Sendable {
    var owner: String?
    var page = PageRequest()
}

/// Which leads a list shows.
struct LeadFilter: Sendable {
    /// Any of these.
    var status: [LeadStatus]?
    var source: LeadSource?
    var owner: String?
    var campaign: UUID?
    var order: CreationOrder = .oldest
    var page = PageRequest()
}

/// Which end of a list by creation comes first: the oldest (the default, a stable read of
/// everything), or the newest (an inbox of what just came in).
enum CreationOrder: String, CaseIterable, Sendable {
    case oldest, newest
}

/// Which activities a list shows, by due time.
struct ActivityFilter: Sendable {
    var owner: String?
    var contact: UUID?
    var deal: UUID?
    var lead: UUID?
    var from: Date?
    var to: Date?
    var overdue: Bool = false
    var done: Bool?
    var page = PageRequest()
}

/// Which quotes a list shows.
struct QuoteFilter: Sendable {
    var deal: UUID?
    var status: QuoteStatus?
    var page = PageRequest()
}

/// Which products a list shows.
struct ProductFilter: Sendable {
    var active: Bool = true
    var search: String?
    var page = PageRequest()
}

/// Which deals a list shows.
struct DealFilter: Sendable {
    var pipeline: UUID?
    var stage: UUID?
    var status: DealStatus?
    var owner: String?
    var contact: UUID?
    var account: UUID?
    var updatedSince: Date?
    /// Part of the title, any case: what a search box sends.
    var search: String?
    var page = PageRequest()
}
