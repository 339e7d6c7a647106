import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// The API of the staff's users and teams: an admin creates, edits and deactivates them; anyone
/// may read them (an owner is picked from the users).
extension GatewayRoutes {
    func registerIdentity(on router: Router<ServiceRequestContext>) {
        let (users, teams) = (users, teams)
        own(router, .get, "/api/v1/users") { _, _, _ in try await users.list().response() }
        own(router, .post, "/api/v1/users") { request, context, _ in
            let input = try await request.decodeJSON(UserFields.self, context: context)
            let (user, link) = try await users.create(input)
            return try Self.withLink(user, link, status: .created, location: "/api/v1/users/")
        }
        own(router, .get, "/api/v1/users/:id") { _, context, _ in try await users.get(try context.uuidParameter("id")).response() }
        own(router, .patch, "/api/v1/users/:id") { request, context, _ in
            let (patch, version) = try await request.mergePatch(context: context)
            return try await users.update(try context.uuidParameter("id"), patch: patch, expectedVersion: version).response()
        }
        for (action, active) in [("deactivate", false), ("reactivate", true)] {
            own(router, .post, "/api/v1/users/:id/\(action)") { request, context, _ in
                let version = request.headers[.ifMatch] == nil ? nil : try request.expectedVersion(bodyVersion: nil)
                return try await users.setActive(try context.uuidParameter("id"), active, expectedVersion: version).response()
            }
        }
        own(router, .post, "/api/v1/users/:id/password-link") { _, context, _ in
            let link = try await users.resetLink(try context.uuidParameter("id"))
            return try APICoding.response(link, status: .created)
        }
        own(router, .get, "/api/v1/teams") { _, _, _ in try await teams.list().response() }
        own(router, .post, "/api/v1/teams") { request, context, _ in
            try await teams.create(try await request.decodeJSON(TeamStore.Fields.self, context: context)).response(status: .created, location: "/api/v1/teams/")
        }
        own(router, .get, "/api/v1/teams/:id") { _, context, _ in try await teams.get(try context.uuidParameter("id")).response() }
        own(router, .patch, "/api/v1/teams/:id") { request, context, _ in
            let (patch, version) = try await request.mergePatch(context: context)
            return try await teams.update(try context.uuidParameter("id"), patch: patch, expectedVersion: version).response()
        }
        own(router, .delete, "/api/v1/teams/:id") { request, context, _ in
            let version = request.headers[.ifMatch] == nil ? nil : try request.expectedVersion(bodyVersion: nil)
            try await teams.delete(try context.uuidParameter("id"), expectedVersion: version)
            return Response(status: .noContent)
        }
    }

    /// The user with the link that sets their password, shown this once.
    static func withLink(_ user: Document, _ link: PasswordLink, status: HTTPResponse.Status, location: String) throws -> Response {
        guard case var .object(members) = try user.json else { throw MissingRow(statement: "a user document") }
        members["password_link"] = try APICoding.decode(JSONValue.self, from: APICoding.encoder.encode(link))
        let identity = try user.identity
        return APICoding.rawResponse(
            String(decoding: try APICoding.encoder.encode(JSONValue.object(members)), as: UTF8.self), status: status,
            headers: [.location: location + identity.id.lowercased, .eTag: entityTag(identity.version ?? 1)]
        )
    }

    /// One of the gateway's own routes: the caller authorized as the API's description says, the
    /// work bounded by the gateway's own timeout.
    func own(
        _ router: Router<ServiceRequestContext>, _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, ServiceRequestContext, Caller) async throws -> Response
    ) {
        let permission = APIDescription.permission(method, path)
        router.on(RouterPath(path), method: method) { request, context in
            let caller = try await authorize(request, permission)
            return try await withinDeadline(Self.ownTimeout) { try await handler(request, context, caller) }
        }
    }
}
