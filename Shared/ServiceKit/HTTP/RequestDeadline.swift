import HTTPTypes
import NIOCore
import Hummingbird
import Storage

/// How long a service works on a request: the deadline its caller gives (`X-Switchboard-Deadline-Ms`,
/// which the gateway sets to its own timeout for the route), else `standard`, at most `longest`.
/// Past it the handler is abandoned (and cancelled) and the caller hears so, rather than the
/// request waiting on a database that does not answer.
public enum RequestDeadline {
    public static let header = "X-Switchboard-Deadline-Ms"
    static let field = HTTPField.Name(header)!
    public static let standard: Duration = .seconds(30)
    public static let longest: Duration = .seconds(3600)

    static func limit(for request: Request, standard: Duration) -> Duration {
        guard let text = request.headers[field], let milliseconds = Int64(text), milliseconds > 0 else { return standard }
        return min(.milliseconds(milliseconds), longest)
    }
}

/// Wraps a service's whole responder: a router middleware gets its `next` as a closure it may not
/// let escape, so it cannot stop awaiting a handler; a responder can be called from a task of its own.
public struct DeadlineResponder<Responder: HTTPResponder>: HTTPResponder where Responder.Context == ServiceRequestContext {
    let responder: Responder
    /// The gateway takes no deadline from outside; its routes keep their own, and this one is a
    /// last resort beyond the longest of them.
    let isPublic: Bool

    public init(_ responder: Responder, isPublic: Bool) {
        self.responder = responder
        self.isPublic = isPublic
    }

    public func respond(to request: Request, context: Responder.Context) async throws -> Response {
        let limit = isPublic ? RequestDeadline.longest + .seconds(5) : RequestDeadline.limit(for: request, standard: RequestDeadline.standard)
        do {
            let response = try await abandonable(limit: limit) { try await responder.respond(to: request, context: context) }
            // Answered without reading the body (too large, too slow): close the connection once the
            // answer is out, as Hummingbird does when it is asked to quiesce, rather than read the
            // rest of a body of any declared size at any pace.
            if response.headers[.connection]?.lowercased() == "close" {
                context.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            }
            return response
        } catch is DeadlineExceeded {
            let writes = request.method != .get && request.method != .head
            return try Problem(
                .gatewayTimeout, slug: "timeout",
                detail: "the request did not finish within \(limit.components.seconds) s"
                    + (writes ? "; a change it was making may or may not have been saved: read the resource, or retry with the same Idempotency-Key" : "")
            ).response(from: request, context: context)
        }
    }
}
