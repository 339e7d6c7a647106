import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceKit

/// Who is at the browser: the session cookie, the CSRF check of every form, and how a page ends
/// when something is wrong (a sign-in, a refusal, an error page without a stack or SQL).
struct WebAccess: Sendable {
    let sessions: SessionStore
    let renderer: PageRenderer
    /// `SWITCHBOARD_WEB_SECURE_COOKIES`: true behind HTTPS, so the cookie never travels in clear.
    var secureCookies = false
    let logger: Logger

    static let cookieName = "sb_session"

    /// What a page handler gets: the signed-in user, and the posted form once its CSRF token checked out.
    struct Visit: Sendable {
        var session: SessionStore.SignedIn
        var form: FormData

        var caller: Caller { Caller(id: session.userId.lowercased, role: session.role) }

        /// What every template reads of the signed-in user (the layout's header and the forms' token).
        var values: [String: Any] {
            [
                "session": [
                    "name": session.name, "role": session.role.rawValue, "csrf": session.csrfToken,
                    "isAdmin": session.role == .admin, "userId": session.userId.lowercased,
                ] as [String: Any],
            ]
        }
    }

    func token(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmed == Self.cookieName { return parts[1].trimmed }
            }
        }
        return nil
    }

    func setCookie(_ token: String) -> String {
        "\(Self.cookieName)=\(token); Path=/; HttpOnly; SameSite=Lax\(secureCookies ? "; Secure" : "")"
    }

    var clearCookie: String {
        "\(Self.cookieName)=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0\(secureCookies ? "; Secure" : "")"
    }

    /// Serves a page to a signed-in user whose role `allowed` accepts; a POST's form must carry the
    /// session's CSRF token. Anyone else is sent to sign in, refused, or shown what went wrong.
    func page(
        _ router: Router<ServiceRequestContext>, _ method: HTTPRequest.Method, _ path: String, allowed: @escaping @Sendable (Role) -> Bool = { _ in true },
        _ handler: @escaping @Sendable (Request, ServiceRequestContext, Visit) async throws -> Response
    ) {
        router.on(RouterPath(path), method: method) { request, context in
            var visit: Visit?
            do {
                guard let token = token(request), let session = try await sessions.session(token) else { throw PageOutcome.signInNeeded }
                var form = FormData("")
                if method == .post {
                    form = try await Self.form(request, context: context)
                    guard let sent = form.raw("_csrf") ?? request.headers[HTTPField.Name("X-CSRF-Token")!],
                        SecretToken.same(sent, session.csrfToken)
                    else {
                        return renderer.page(
                            "error", ["heading": "The form has expired", "message": "Reload the page and send it again."], status: .forbidden
                        )
                    }
                }
                visit = Visit(session: session, form: form)
                guard allowed(session.role) else { throw PageOutcome.forbidden }
                return try await handler(request, context, visit!)
            } catch {
                return failure(error, request: request, visit: visit)
            }
        }
    }

    /// A posted form of at most 1 MiB.
    static func form(_ request: Request, context: ServiceRequestContext) async throws -> FormData {
        let body = try await request.body.collect(upTo: 1 << 20)
        return FormData(String(buffer: body))
    }

    /// The answer for a page that did not end with its own.
    private func notFound(_ values: [String: Any]) -> Response {
        var values = values
        values["heading"] = "Not found"
        values["message"] = "There is nothing here; it may have been deleted or merged."
        return renderer.page("error", values, status: .notFound)
    }

    func failure(_ error: any Error, request: Request, visit: Visit?) -> Response {
        var values = visit?.values ?? [:]
        switch error {
        case PageOutcome.redirect(let target):
            return Response(status: .seeOther, headers: [.location: target])
        case PageOutcome.signInNeeded:
            let next = request.method == .get ? request.uri.description : "/home"
            var components = URLComponents()
            components.queryItems = [URLQueryItem(name: "next", value: next)]
            return Response(status: .seeOther, headers: [.location: "/sign-in?" + (components.percentEncodedQuery ?? "")])
        case PageOutcome.forbidden:
            values["heading"] = "Not for your role"
            values["message"] = "Your role may not open this page or do this. Ask an administrator if you need to."
            return renderer.page("error", values, status: .forbidden)
        case PageOutcome.notFound:
            return notFound(values)
        case let problem as Problem where problem.statusCode == 404:
            return notFound(values)
        case let problem as Problem where (400..<500).contains(problem.statusCode):
            // A refusal of the gateway's own stores (a name taken, a stale version) in its words.
            values["heading"] = "Not done"
            values["message"] = problem.detail ?? problem.title
            return renderer.page("error", values, status: problem.status)
        default:
            // The person sees a reference, never the error itself: that is for the log.
            let reference = UUID().lowercased.prefix(8)
            logger.error("page failed", metadata: ["path": "\(request.uri.path)", "reference": "\(reference)", "error": "\(String(reflecting: error))"])
            let unavailable = (error as? Problem).map { $0.statusCode == 503 || $0.statusCode == 504 } ?? false
            values["heading"] = unavailable ? "A service is not answering" : "Something went wrong"
            values["message"] = unavailable ? "Part of Switchboard is not answering just now. Try again in a moment." : "The page could not be shown. Try again; if it keeps failing, give this reference to your administrator."
            values["reference"] = String(reference)
            return renderer.page("error", values, status: unavailable ? .serviceUnavailable : .internalServerError)
        }
    }
}
