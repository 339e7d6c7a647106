import Hummingbird
import NIOCore

/// The request context of every service's router: Hummingbird's basic one, plus the connection,
/// so that an answer given before the body was read (a 413 for a declared length, a 408 for a body
/// that trickles) can stop reading it. Hummingbird otherwise reads the rest of every body before
/// the next request, however large the client says it is and however slowly it comes.
public struct ServiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
