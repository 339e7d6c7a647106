import Foundation
import HTTPTypes
import Hummingbird
import ServiceKit

/// Signing in and out, and setting a password from a one-time link.
struct SignInPages: Sendable {
    let access: WebAccess
    let users: UserStore

    var renderer: PageRenderer { access.renderer }
    var sessions: SessionStore { access.sessions }

    func register(on router: Router<ServiceRequestContext>) {
        router.get("/") { request, _ in
            let signedIn = try await access.token(request).asyncMap { try await sessions.session($0) } ?? nil
            return Response(status: .seeOther, headers: [.location: signedIn == nil ? "/sign-in" : "/home"])
        }
        router.get("/sign-in") { request, _ in
            renderer.page("sign-in", ["next": Self.safeNext(request.uri.queryParameters.get("next"))])
        }
        router.post("/sign-in") { request, context in
            let form = try await WebAccess.form(request, context: context)
            let next = Self.safeNext(form["next"])
            let email = form["email"] ?? ""
            do {
                let (token, _) = try await sessions.signIn(
                    email: email, password: form.raw("password") ?? "", address: Self.address(request, context),
                    userAgent: request.headers[.userAgent]
                )
                return Response(status: .seeOther, headers: [.location: next, .setCookie: access.setCookie(token)])
            } catch SessionStore.SignInFailure.refused {
                return renderer.page(
                    "sign-in", ["next": next, "email": email, "error": "The e-mail or the password is not right."], status: .unauthorized
                )
            } catch let SessionStore.SignInFailure.limited(retryAfter) {
                return renderer.page(
                    "sign-in",
                    ["next": next, "email": email, "error": "Too many failed attempts. Try again in \(max(1, retryAfter / 60)) minutes."],
                    status: .tooManyRequests, headers: [.retryAfter: "\(retryAfter)"]
                )
            }
        }
        access.page(router, .post, "/sign-out") { _, _, visit in
            try await sessions.end(visit.session)
            return Response(status: .seeOther, headers: [.location: "/sign-in", .setCookie: access.clearCookie])
        }
        access.page(router, .post, "/sign-out-everywhere") { _, _, visit in
            try await sessions.endAll(of: visit.session.userId)
            return Response(status: .seeOther, headers: [.location: "/sign-in", .setCookie: access.clearCookie])
        }
        router.get("/password/:token") { _, _ in renderer.page("password", ["usable": true]) }
        router.post("/password/:token") { request, context in
            let form = try await WebAccess.form(request, context: context)
            let (password, repeated) = (form.raw("password") ?? "", form.raw("repeat") ?? "")
            guard password == repeated else {
                return renderer.page("password", ["usable": true, "error": "The two passwords differ."], status: .unprocessableContent)
            }
            do {
                _ = try await users.usePasswordLink(context.parameters.get("token") ?? "", password: password)
            } catch let problem as Problem where problem.statusCode == 410 || problem.statusCode == 422 {
                let message = problem.errors.first.map { "The password \($0.message)." } ?? problem.detail ?? ""
                return renderer.page("password", ["usable": problem.statusCode == 422, "error": message], status: problem.statusCode == 410 ? .gone : .unprocessableContent)
            }
            return renderer.page("sign-in", ["next": "/home", "notice": "Your password is set. Sign in with it."])
        }
        router.get("/assets/:name") { _, context in
            guard let asset = renderer.asset(context.parameters.get("name") ?? "") else { throw Problem.notFound("asset") }
            return asset
        }
    }

    /// Only a path of this site: a link to elsewhere after sign-in would lend it our name.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\") else { return "/home" }
        return next
    }

    /// The address a sign-in comes from: the peer (a proxy in front names the client in its own log).
    static func address(_ request: Request, _ context: ServiceRequestContext) -> String {
        context.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
