import HTTPTypes
import Hummingbird

/// The per-deployment secret the gateway sends on every call to a service
/// (`SWITCHBOARD_GATEWAY_TOKEN`). A service answers nothing but `/health/*` and `/metrics`
/// without it: behind the gateway the roles are checked, and a service's own port must not be a
/// way around them.
public enum GatewayCredential {
    public static let header = "X-Switchboard-Gateway-Token"
    static let field = HTTPField.Name(header)!
    /// The environment key (`SWITCHBOARD_GATEWAY_TOKEN`).
    public static let setting = "gateway.token"

    /// Compares in time that depends on the lengths only, not on where the first difference is.
    static func matches(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// 401 for any call without the gateway's credential, but the health and metrics endpoints.
public struct GatewayCredentialMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    public init(token: String) {
        precondition(!token.isEmpty, "the gateway token must not be empty")
        self.token = token
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix("/health/") || path == "/metrics" { return try await next(request, context) }
        guard let given = request.headers[GatewayCredential.field], GatewayCredential.matches(given, token) else {
            throw Problem(
                .unauthorized, slug: "gateway-credential-required",
                detail: "this service answers the gateway only; call the API through the gateway",
                headers: ["WWW-Authenticate": "\(GatewayCredential.header)"]
            )
        }
        return try await next(request, context)
    }
}
