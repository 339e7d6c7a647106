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
        .init(method: .get, path: "/api/v1/contacts/export", permission: .read, upstream: "contacts", timeoutSeconds: 3600),
        .init(method: .post, path: "/api/v1/imports", permission: .writeCustomers, upstream: "contacts", body: .stream, timeoutSeconds: 3600),
        .init(method: .get, path: "/api/v1/imports", permission: .read, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/imports/:id", permission: .read, upstream: "contacts"),
        .init(method: .get, path: "/api/v1/imports/:id/errors", permission: .read, upstream: "contacts", timeoutSeconds: 600),
        .init(method: .get, path: "/api/v1/custom-fields", permission: .read, upstream: "contacts"),
        .init(method: .post, path: "/api/v1/custom-fields", permission: .admin, upstream: "contacts"),
        .init(method: .delete, path: "/api/v1/custom-fields/:id", permission: .admin, upstream: "contacts"),
    ]
}
