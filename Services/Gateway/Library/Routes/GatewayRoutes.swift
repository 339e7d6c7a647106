import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceKit
import Storage

/// The public API: authenticates every call, checks the caller's role, makes POSTs idempotent
/// on request, and hands the call to the service that owns the data.
struct GatewayRoutes: Sendable {
    let keys: APIKeyStore
    let users: UserStore
    let teams: TeamStore
    let idempotency: IdempotencyStore
    let upstreams: [String: Upstream]
    let logger: Logger
    /// How long the overview waits for each service before it answers without that part.
    var overviewTimeout: Duration = .milliseconds(1500)
    /// The largest streamed upload (`SWITCHBOARD_IMPORT_MAX_BYTES`, as the contacts service reads it).
    var maximumUploadBytes: Int64 = 2 << 30

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// How long the gateway's own routes (API keys) may take, as a proxied route's default.
    static let ownTimeout: Duration = .seconds(15)
    /// The largest answer to an idempotent POST the gateway keeps for replay (JSON documents are far smaller).
    static let maximumStoredResponse = 4 << 20

    func register(on router: Router<ServiceRequestContext>) {
        for route in ProxiedRoute.all {
            router.on(RouterPath(route.path), method: route.method) { request, context in
                try await proxy(request, context: context, route: route)
            }
        }
        // The gateway's own routes, who may call each as the API's description says.
        let overview = APIDescription.permission(.get, "/api/v1/customers/:id/overview")
        router.get("/api/v1/customers/:id/overview") { request, context in
            let caller = try await authorize(request, overview)
            let body = try await self.overview(try context.uuidParameter("id"), caller)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
        router.get("/api/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_json))
            )
        }
        let keys = keys
        own(router, .get, "/api/v1/api-keys") { _, _, _ in try await keys.list().response() }
        own(router, .post, "/api/v1/api-keys") { request, context, _ in
            APICoding.rawResponse(try await keys.create(try await request.decodeJSON(APIKeyStore.NewKey.self, context: context)), status: .created)
        }
        own(router, .delete, "/api/v1/api-keys/:id") { _, context, _ in
            try await keys.revoke(try context.uuidParameter("id"))
            return Response(status: .noContent)
        }
        registerIdentity(on: router)
    }

    /// The customer overview of a contact, as the API and the contact's page show it.
    func overview(_ contactId: UUID, _ caller: Caller) async throws -> ByteBuffer {
        guard let contacts = upstreams["contacts"], let sales = upstreams["sales"], let erp = upstreams["erp_bridge"] else {
            throw Problem(.serviceUnavailable, slug: "upstream-unavailable", detail: "the contacts, sales and ERP bridge services are not configured")
        }
        return try await CustomerOverview(contacts: contacts, sales: sales, erp: erp, timeout: overviewTimeout, logger: logger)
            .answer(contactId, caller: caller)
    }

    /// JSON with sorted keys and no spacing, so the same request written another way has the same
    /// fingerprint; a body that is not JSON as it is.
    static func canonical(_ body: Data) -> Data {
        guard let value = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]),
            let canonical = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return body }
        return canonical
    }

    /// The caller of a request with a valid key whose role the permission allows.
    func authorize(_ request: Request, _ permission: Permission) async throws -> Caller {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
            case let key = header.dropFirst(7).trimmingCharacters(in: .whitespaces), !key.isEmpty
        else {
            throw Problem(
                .unauthorized, slug: "unauthenticated", detail: "send an API key as Authorization: Bearer <key>",
                headers: ["WWW-Authenticate": "Bearer"]
            )
        }
        // Bounded: a database that hangs must not hold every request that carries a key.
        let keys = keys
        let found: Caller?
        do {
            found = try await abandonable(limit: .seconds(5)) { try await keys.caller(for: key) }
        } catch is DeadlineExceeded {
            throw Problem.database(DatabaseFault.unavailable("the API key lookup did not answer within 5 s"))
        }
        guard let caller = found else {
            throw Problem(
                .unauthorized, slug: "invalid-key", detail: "the API key is unknown or revoked",
                headers: ["WWW-Authenticate": "Bearer error=\"invalid_token\""]
            )
        }
        guard permission.allows(caller.role) else {
            throw Problem(
                .forbidden, slug: "forbidden", detail: "the role '\(caller.role.rawValue)' may not \(request.method.rawValue) \(request.uri.path)"
            )
        }
        return caller
    }

    private func proxy(_ request: Request, context: ServiceRequestContext, route: ProxiedRoute) async throws -> Response {
        // Every step ends in time: a database that hangs (a restart) must not hold the client
        // beyond what the route allows. The key lookup and the body have limits of their own (the
        // body's, APICoding.bodyTimeout, since how fast it arrives is the client's doing).
        let caller = try await authorize(request, route.permission)
        guard let upstream = upstreams[route.upstream] else {
            throw Problem(.serviceUnavailable, slug: "upstream-unavailable", detail: "the \(route.upstream) service is not configured")
        }
        var bodyBytes: Data?
        var body: HTTPClientRequest.Body?
        switch route.body {
        case .stream:
            // Refused here, not only by the service: the gateway would go on sending the body
            // the service no longer reads, and the client would wait for an answer meanwhile.
            if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > maximumUploadBytes {
                throw Problem(
                    .contentTooLarge, slug: "upload-too-large", detail: "an upload may be at most \(maximumUploadBytes) bytes",
                    headers: ["Connection": "close"]
                )
            }
            let timeout = Duration.seconds(route.timeoutSeconds)
            return try await UploadRelay.passOn(request.body) { body in
                try await withinDeadline(timeout + .seconds(2)) {
                    try await forward(request, route: route, caller: caller, upstream: upstream, body: body, bodyBytes: nil, timeout: timeout)
                }
            }
        case .json:
            if request.method == .post || request.method == .patch || request.method == .put {
                // The service says whether it needs a body: an action's may be empty.
                if let bytes = try await request.optionalJSONBody(context: context) {
                    bodyBytes = bytes
                    body = .bytes(ByteBuffer(bytes: bytes))
                }
            }
        }
        let timeout = Duration.seconds(route.timeoutSeconds)
        let (requestBody, requestBytes) = (body, bodyBytes)
        return try await withinDeadline(timeout + .seconds(2)) {
            try await forward(request, route: route, caller: caller, upstream: upstream, body: requestBody, bodyBytes: requestBytes, timeout: timeout)
        }
    }

    private func forward(
        _ request: Request, route: ProxiedRoute, caller: Caller, upstream: Upstream, body: HTTPClientRequest.Body?, bodyBytes: Data?,
        timeout: Duration
    ) async throws -> Response {
        let idempotencyKey = request.method == .post ? request.headers[Self.idempotencyKey] : nil
        guard let idempotencyKey else {
            let answer = try await upstream.forward(request, body: body, caller: caller, timeout: timeout)
            if route.answer == .stream { return answer.streamed }
            let read = try await upstream.collect(answer, within: timeout)
            return Response(status: read.status, headers: read.headers, body: .init(byteBuffer: read.body))
        }

        guard (1...255).contains(idempotencyKey.count) else {
            throw Problem.badRequest("Idempotency-Key must be 1 to 255 characters", field: "Idempotency-Key")
        }
        var hasher = SHA256()
        hasher.update(data: Data("\(request.method.rawValue) \(request.uri.description)\n".utf8))
        if let bodyBytes { hasher.update(data: Self.canonical(bodyBytes)) }
        let fingerprint = hasher.finalize().map { String(format: "%02x", $0) }.joined()

        switch try await idempotency.start(caller: caller.id, key: idempotencyKey, fingerprint: fingerprint, lease: timeout + .seconds(5)) {
        case let .replay(stored):
            var headers = HTTPFields()
            for (name, value) in stored.headers {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            headers[HTTPField.Name("Idempotent-Replayed")!] = "true"
            return Response(
                status: HTTPResponse.Status(code: stored.status), headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: stored.body))
            )
        case let .proceed(claim):
            do {
                // The service records the answer under this key in the commit of its effects, so a
                // retry after an answer lost on the way (a commit whose outcome was unknown, a
                // gateway that died) gets that answer instead of doing the work twice.
                let requestKey = RequestLedger.key(caller: caller.id, idempotencyKey: idempotencyKey, fingerprint: fingerprint)
                let answer = try await upstream.forward(request, body: body, caller: caller, timeout: timeout, requestKey: requestKey)
                let read = try await upstream.collect(answer, within: timeout, limit: Self.maximumStoredResponse)
                if read.status.code < 500 {
                    var headers: [String: String] = [:]
                    for field in read.headers { headers[field.name.rawName] = field.value }
                    do {
                        try await idempotency.complete(
                            caller: caller.id, key: idempotencyKey, claim: claim,
                            response: .init(status: read.status.code, headers: headers, body: Array(read.body.readableBytesView))
                        )
                    } catch {
                        // The service has done the work: answer it. The claim's lease frees the key,
                        // and a retry then gets the same answer from the service's request ledger.
                        logger.error("could not keep an idempotent answer", metadata: ["key": "\(idempotencyKey)", "error": "\(String(reflecting: error))"])
                    }
                } else {
                    await idempotency.abandon(caller: caller.id, key: idempotencyKey, claim: claim)
                }
                return Response(status: read.status, headers: read.headers, body: .init(byteBuffer: read.body))
            } catch {
                await idempotency.abandon(caller: caller.id, key: idempotencyKey, claim: claim)
                throw error
            }
        }
    }

    /// `body`, or a 504 once `limit` has passed.
    func withinDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await abandonable(limit: limit, body)
        } catch is DeadlineExceeded {
            throw Problem(.gatewayTimeout, slug: "timeout", detail: "the request did not finish within \(limit.milliseconds / 1000) s")
        }
    }
}

extension RequestLedger {
    /// The service's ledger key for a caller's `Idempotency-Key` on one request (its fingerprint):
    /// the same key sent with another request, once the gateway has forgotten the first, is
    /// another entry, never the first one's answer. Hashed, so that neither the key nor who sent
    /// it is stored in the service.
    static func key(caller: String, idempotencyKey: String, fingerprint: String) -> String {
        SHA256.hash(data: Data("\(caller)\n\(idempotencyKey)\n\(fingerprint)".utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
