import Contracts
import Foundation
import Hummingbird
import ServiceKit

/// Lists' query parameters read into the filters the stores take; every bad parameter is named
/// in one 400.
extension CallListFilter {
    init(_ request: Request) throws {
        self.init()
        var query = QueryReader(request)
        owner = query.string("owner")
        page = query.page([.timestamp, .uuid])
        try query.check()
    }
}

extension LeadFilter {
    init(_ request: Request) throws {
        self.init()
        var query = QueryReader(request)
        status = query.anyOf("status", LeadStatus.self)
        source = query.oneOf("source", LeadSource.self)
        owner = query.string("owner")
        campaign = query.uuid("campaign_id")
        order = query.oneOf("order", CreationOrder.self) ?? .oldest
        page = query.page([.timestamp, .uuid])
        try query.check()
    }
}

extension ActivityFilter {
    init(_ request: Request) throws {
        self.init()
        var query = QueryReader(request)
        owner = query.string("owner")
        contact = query.uuid("contact_id")
        deal = query.uuid("deal_id")
        lead = query.uuid("lead_id")
        from = query.date("from")
        to = query.date("to")
        overdue = query.string("overdue").map { $0 == "true" } ?? false
        if let text = query.string("done") {
            if ["true", "false"].contains(text) { done = text == "true" } else { query.fail("done", "must be true or false") }
        }
        page = query.page([.timestamp, .uuid])
        try query.check()
    }
}

extension QuoteFilter {
    init(_ request: Request) throws {
        self.init()
        var query = QueryReader(request)
        deal = query.uuid("deal_id")
        status = query.oneOf("status", QuoteStatus.self)
        page = query.page([.timestamp, .uuid])
        try query.check()
    }
}

extension ProductFilter {
    init(_ request: Request) throws {
        self.init()
        var query = QueryReader(request)
        active = query.string("active").map { $0 != "false" } ?? true
        search = query.string("q")
        page = query.page([.text, .uuid])
        try query.check()
    }
}

extension DealFilter {
    init(_ request: Request) throws {
        self.init()
        var query = QueryReader(request)
        pipeline = query.uuid("pipeline_id")
        stage = query.uuid("stage_id")
        status = query.oneOf("status", DealStatus.self)
        owner = query.string("owner")
        contact = query.uuid("contact_id")
        account = query.uuid("account_id")
        updatedSince = query.date("updated_since")
        search = query.string("q")
        page = query.page([.timestamp, .uuid])
        try query.check()
    }
}

extension ReportStore.Range {
    /// `from` (inclusive) and `to` (exclusive) as dates or timestamps, `pipeline_id`, `owner`.
    init(_ query: inout QueryReader) {
        self.init()
        from = Self.instant(&query, "from")
        to = Self.instant(&query, "to")
        pipeline = query.uuid("pipeline_id")
        owner = query.string("owner")
        if let from, let to, to <= from { query.fail("to", "must be after from") }
    }

    private static func instant(_ query: inout QueryReader, _ name: String) -> Date? {
        guard let text = query.string(name) else { return nil }
        if let day = DealFields.calendarDate(text) { return day }
        return query.date(name)
    }

    /// A report's query that has nothing but the range.
    init(_ request: Request) throws {
        var query = QueryReader(request)
        self.init(&query)
        try query.check()
    }
}
