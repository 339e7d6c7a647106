import HTTPTypes

/// A public route the gateway serves by calling a service: who may call it and how its body travels.
struct ProxiedRoute: Sendable {
    enum Body: Sendable {
        /// A JSON body of at most `APICoding.maximumBodySize`, read whole (and fingerprinted for
        /// `Idempotency-Key`).
        case json
        /// An upload of any size, streamed through.
        case stream
    }

    var method: HTTPRequest.Method
    /// Hummingbird's syntax (`:id`); the service serves the same path.
    var path: String
    var permission: Permission
    var upstream: String
    var body: Body = .json
    /// How long the service may take; an export or an upload streams for longer.
    var timeoutSeconds: Int64 = 15
    /// How the answer travels: read whole within the timeout, or streamed on as it comes (an
    /// export of any size), where a stall of AsyncHTTPClient's read timeout ends it.
    var answer: Answer = .whole

    enum Answer: Sendable, Equatable {
        case whole, stream
    }
}

extension ProxiedRoute {
    static let contacts: [ProxiedRoute] = [
        .init(method: .get, path: "/api/v1/contacts", permission: .read, upstream: "contacts"),
        .init(method: .post, path: "/api/v1/contacts", permission: .writeCustomers, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/contacts/duplicates", permission: .read, upstream: "contacts", timeoutSeconds: 120),
        .init(method: .post, path: "/api/v1/contacts/merge", permission: .writeCustomers, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/contacts/:id", permission: .read, upstream: "contacts"),
        .init(method: .patch, path: "/api/v1/contacts/:id", permission: .writeCustomers, upstream: "contacts"),
        .init(method: .delete, path: "/api/v1/contacts/:id", permission: .writeCustomers, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/contacts/:id/interactions", permission: .read, upstream: "contacts"),
        .init(method: .post, path: "/api/v1/contacts/:id/interactions", permission: .writeCustomers, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/accounts", permission: .read, upstream: "contacts"),
        .init(method: .post, path: "/api/v1/accounts", permission: .writeCustomers, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/accounts/:id", permission: .read, upstream: "contacts"),
        .init(method: .patch, path: "/api/v1/accounts/:id", permission: .writeCustomers, upstream: "contacts"),
        .init(method: .delete, path: "/api/v1/accounts/:id", permission: .writeCustomers, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/accounts/:id/contacts", permission: .read, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/contacts/export", permission: .read, upstream: "contacts", timeoutSeconds: 3600, answer: .stream),
        .init(method: .post, path: "/api/v1/imports", permission: .writeCustomers, upstream: "contacts", body: .stream, timeoutSeconds: 3600),
        .init(method: .get, path: "/api/v1/imports", permission: .read, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/imports/:id", permission: .read, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/imports/:id/errors", permission: .read, upstream: "contacts", timeoutSeconds: 600, answer: .stream),
        .init(method: .get, path: "/api/v1/custom-fields", permission: .read, upstream: "contacts"),
        .init(method: .post, path: "/api/v1/custom-fields", permission: .admin, upstream: "contacts"),
        .init(method: .delete, path: "/api/v1/custom-fields/:id", permission: .admin, upstream: "contacts"),
    ]
}

extension ProxiedRoute {
    static let sales: [ProxiedRoute] = [
        .init(method: .get, path: "/api/v1/pipelines", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/pipelines", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/pipelines/:id", permission: .read, upstream: "sales"),
        .init(method: .patch, path: "/api/v1/pipelines/:id", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/pipelines/:id/stages", permission: .writeSales, upstream: "sales"),
        .init(method: .patch, path: "/api/v1/pipelines/:id/stages/:stage_id", permission: .writeSales, upstream: "sales"),
        .init(method: .delete, path: "/api/v1/pipelines/:id/stages/:stage_id", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/lost-reasons", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/lost-reasons", permission: .admin, upstream: "sales"),
        .init(method: .patch, path: "/api/v1/lost-reasons/:code", permission: .admin, upstream: "sales"),
        .init(method: .get, path: "/api/v1/deals", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/deals", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/deals/:id", permission: .read, upstream: "sales"),
        .init(method: .patch, path: "/api/v1/deals/:id", permission: .writeSales, upstream: "sales"),
        .init(method: .delete, path: "/api/v1/deals/:id", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/deals/:id/history", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/deals/:id/stage", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/deals/:id/won", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/deals/:id/lost", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/deals/:id/reopen", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/leads", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/leads", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/leads/:id", permission: .read, upstream: "sales"),
        .init(method: .patch, path: "/api/v1/leads/:id", permission: .writeSales, upstream: "sales"),
        .init(method: .delete, path: "/api/v1/leads/:id", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/leads/:id/qualify", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/leads/:id/disqualify", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/leads/:id/convert", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/products", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/products", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/products/:id", permission: .read, upstream: "sales"),
        .init(method: .patch, path: "/api/v1/products/:id", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/price-lists", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/price-lists", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/price-lists/:id", permission: .read, upstream: "sales"),
        .init(method: .patch, path: "/api/v1/price-lists/:id", permission: .writeSales, upstream: "sales"),
        .init(method: .put, path: "/api/v1/price-lists/:id/prices/:product_id", permission: .writeSales, upstream: "sales"),
        .init(method: .delete, path: "/api/v1/price-lists/:id/prices/:product_id", permission: .writeSales, upstream: "sales"),
        .init(method: .put, path: "/api/v1/deals/:id/lines", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/deals/:id/quotes", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/quotes", permission: .read, upstream: "sales"),
        .init(method: .get, path: "/api/v1/quotes/:id", permission: .read, upstream: "sales"),
        .init(method: .get, path: "/api/v1/quotes/:id/html", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/quotes/:id/send", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/quotes/:id/accept", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/quotes/:id/reject", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/activities", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/activities", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/activities/:id", permission: .read, upstream: "sales"),
        .init(method: .patch, path: "/api/v1/activities/:id", permission: .writeSales, upstream: "sales"),
        .init(method: .delete, path: "/api/v1/activities/:id", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/activities/:id/complete", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/call-lists", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/call-lists", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/call-lists/:id", permission: .read, upstream: "sales"),
        .init(method: .get, path: "/api/v1/call-lists/:id/entries", permission: .read, upstream: "sales"),
        .init(method: .post, path: "/api/v1/call-lists/:id/entries", permission: .writeSales, upstream: "sales"),
        .init(method: .post, path: "/api/v1/call-lists/:id/entries/:contact_id/calls", permission: .writeSales, upstream: "sales"),
        .init(method: .get, path: "/api/v1/reports/funnel", permission: .read, upstream: "sales", timeoutSeconds: 60),
        .init(method: .get, path: "/api/v1/reports/forecast", permission: .read, upstream: "sales", timeoutSeconds: 60),
        .init(method: .get, path: "/api/v1/reports/win-rate", permission: .read, upstream: "sales", timeoutSeconds: 60),
        .init(method: .get, path: "/api/v1/reports/lost-reasons", permission: .read, upstream: "sales", timeoutSeconds: 60),
    ]
}
