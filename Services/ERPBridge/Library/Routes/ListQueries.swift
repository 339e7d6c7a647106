import Foundation
import Hummingbird
import ServiceKit

extension OrderFilter {
    /// Every bad parameter named in one 400.
    init(_ request: Request, customer: UUID? = nil) throws {
        self.init()
        var query = QueryReader(request)
        self.customer = customer ?? query.uuid("customer_id")
        account = query.uuid("account_id")
        status = query.anyOf("status", OrderStatus.self)
        source = query.string("source")
        from = query.date("from")
        to = query.date("to")
        deal = query.uuid("deal_id")
        page = query.page([.timestamp, .uuid])
        try query.check()
    }
}

extension AlertFilter {
    init(_ request: Request) throws {
        self.init()
        var query = QueryReader(request)
        status = query.anyOf("status", AlertStatus.self)
        rule = query.oneOf("rule", AlertRule.self)
        customer = query.uuid("customer_id")
        source = query.string("source")
        order = query.uuid("order_id")
        page = query.page([.timestamp, .uuid])
        try query.check()
    }
}
