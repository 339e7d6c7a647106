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
    var status: LeadStatus?
    var source: LeadSource?
    var owner: String?
    var campaign: UUID?
    var page = PageRequest()
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
    var page = PageRequest()
}
