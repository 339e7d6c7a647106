import Contracts
import Foundation
import ServiceKit
import Storage

/// The orders a contact list can take; each has an index ending in `id`, so keyset pages are stable.
enum ContactSort: String, CaseIterable {
    case created, updated, name
    /// In no meaningful order, but stable for paging and independent of what a search term
    /// matches, so a common term is never clustered at the far end of it: a search's default.
    case id

    var keys: [String] {
        switch self {
        case .created: ["c.created_at", "c.id"]
        case .updated: ["c.updated_at", "c.id"]
        case .name: ["lower(c.last_name)", "lower(c.first_name)", "c.id"]
        case .id: ["c.id"]
        }
    }

    var cursorKinds: [Cursor.Kind] {
        switch self {
        case .created, .updated: [.timestamp, .uuid]
        case .name: [.text, .text, .uuid]
        case .id: [.uuid]
        }
    }

    var cursorTypes: [String] {
        cursorKinds.map {
            switch $0 {
            case .text: "text"
            case .uuid: "uuid"
            case .timestamp: "timestamptz"
            }
        }
    }

    /// SQL for the text values a cursor keeps (timestamps are stored to the millisecond, so their
    /// text form is exact).
    var cursorValues: String {
        switch self {
        case .created: "to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), c.id::text"
        case .updated: "to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), c.id::text"
        case .name: "lower(c.last_name), lower(c.first_name), c.id::text"
        case .id: "c.id::text"
        }
    }
}

/// The filters of `GET /contacts` and the export (Routes/ListQueries.swift reads them), and the SQL they make.
struct ContactFilter: Sendable {
    var accountId: UUID?
    var owner: String?
    var tag: String?
    var region: String?
    var country: String?
    var customerType: CustomerType?
    var leadSource: LeadSource?
    var updatedSince: Date?
    /// Any part of a name, e-mail, phone or company; at least three characters.
    var search: String?
    /// `created` by default, `id` by default for a search.
    var sort = ContactSort.created
    var page = PageRequest()

    /// What the search column holds: lower case, and a phone-like term as digits only.
    static func searchTerm(_ text: String) -> String {
        let trimmed = text.trimmed.lowercased()
        let phoneLike = trimmed.allSatisfy { $0.isNumber || " +-()./".contains($0) }
        return phoneLike ? trimmed.filter(\.isNumber) : trimmed
    }

    func appendConditions(to sql: inout SQLBuilder, search includeSearch: Bool) throws {
        if let accountId { sql.append(" AND c.account_id = \(try sql.bind(accountId))") }
        if let owner { sql.append(" AND c.owner = \(try sql.bind(owner))") }
        if let tag { sql.append(" AND c.tags @> ARRAY[\(try sql.bind(tag))]::text[]") }
        if let region { sql.append(" AND lower(c.region) = lower(\(try sql.bind(region)))") }
        if let country { sql.append(" AND c.country = \(try sql.bind(country))") }
        if let customerType { sql.append(" AND c.customer_type = \(try sql.bind(customerType.rawValue))") }
        if let leadSource { sql.append(" AND c.lead_source = \(try sql.bind(leadSource.rawValue))") }
        if let updatedSince { sql.append(" AND c.updated_at >= \(try sql.bind(updatedSince))") }
        if includeSearch, let search {
            sql.append(" AND c.search LIKE \(try sql.bind(containsPattern(search)))")
        }
    }
}
