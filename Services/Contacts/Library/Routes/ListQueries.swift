import Contracts
import Hummingbird
import ServiceKit

/// Lists' query parameters read into the filters the stores take; every bad parameter is named
/// in one 400.
extension ContactFilter {
    init(_ request: Request) throws {
        self.init()
        var query = QueryReader(request)
        accountId = query.uuid("account_id")
        owner = query.string("owner")
        tag = query.string("tag")
        region = query.string("region")
        country = query.string("country")?.uppercased()
        customerType = query.oneOf("customer_type", CustomerType.self)
        leadSource = query.oneOf("lead_source", LeadSource.self)
        updatedSince = query.date("updated_since")
        if let text = query.string("q") {
            let term = Self.searchTerm(text)
            if term.count < 3 {
                query.fail("q", "needs at least 3 letters or digits")
            } else {
                search = term
            }
        }
        sort = query.oneOf("sort", ContactSort.self) ?? (search == nil ? .created : .id)
        page = query.page(sort.cursorKinds)
        try query.check()
    }
}

extension AccountFilter {
    init(_ request: Request) throws {
        self.init()
        var query = QueryReader(request)
        owner = query.string("owner")
        tag = query.string("tag")
        country = query.string("country")?.uppercased()
        parentAccountId = query.uuid("parent_account_id")
        search = query.string("q")?.lowercased()
        if let search, search.count < 3 { query.fail("q", "needs at least 3 characters") }
        page = query.page([.text, .uuid])
        try query.check()
    }
}
