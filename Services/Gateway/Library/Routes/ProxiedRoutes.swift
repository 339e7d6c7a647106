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
    /// Every public route the gateway passes on, read from the OpenAPI document it serves (the
    /// bundle of the services' openapi.yaml): an operation's `x-upstream` (its service),
    /// `x-permission`, `x-timeout-seconds` (15 when absent), `x-body: stream` and
    /// `x-answer: stream`. Who may call a route and how long it may take are written there, once.
    static let all: [ProxiedRoute] = APIDescription.operations.compactMap { operation in
        guard let upstream = operation.upstream else { return nil }
        return ProxiedRoute(
            method: operation.method, path: operation.routerPath, permission: operation.permission, upstream: upstream,
            body: operation.streamsBody ? .stream : .json, timeoutSeconds: operation.timeoutSeconds,
            answer: operation.streamsAnswer ? .stream : .whole
        )
    }
}
