import Foundation
import ServiceKit

// What lists are asked for, as the stores take it; Routes/ListQueries.swift reads it from the query.
// The contacts' own filter, which also writes its SQL conditions, is Store/ContactFilter.swift.

/// Which accounts a list shows.
struct AccountFilter: Sendable {
    var owner: String?
    var tag: String?
    /// ISO 3166 alpha-2, upper case.
    var country: String?
    var parentAccountId: UUID?
    /// Any part of the name, lower case; at least three characters.
    var search: String?
    var page = PageRequest()
}
