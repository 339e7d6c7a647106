import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy between a process under test and a server, which a test can turn into a black hole:
/// the bytes stop flowing both ways while every connection stays open, as when a server hangs or
/// the network between drops packets without a reset. The harshest way for a database to be
/// down: nothing fails, nothing answers.
public final class TCPFaultProxy: Sendable {
    public let port: Int
    private let server: any Channel
    private let state: ProxyState

    private init(port: Int, server: any Channel, state: ProxyState) {
        self.port = port
        self.server = server
        self.state = state
    }

    /// Listens on a free loopback port and forwards every connection to `host`:`targetPort`.
    public static func start(to host: String, port targetPort: Int) async throws -> TCPFaultProxy {
        let state = ProxyState()
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                let glue = Glue(state: state)
                return inbound.pipeline.addHandler(glue).flatMap {
                    ClientBootstrap(group: inbound.eventLoop)
                        .channelInitializer { outbound in outbound.pipeline.addHandler(Glue(state: state, partner: inbound)) }
                        .connect(host: host, port: targetPort)
                        .map { outbound in glue.connected(to: outbound) }
                        .flatMapErrorThrowing { error in
                            inbound.close(promise: nil)
                            throw error
                        }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TCPFaultProxy(port: server.localAddress?.port ?? 0, server: server, state: state)
    }

    /// From now on nothing passes, in either direction, on any connection old or new.
    public func blackhole() {
        state.blackholed.withLock { $0 = true }
    }

    public func close() async {
        try? await server.close()
    }
}

private final class ProxyState: Sendable {
    let blackholed = Mutex(false)
    var isBlackholed: Bool { blackholed.withLock { $0 } }
}

/// One side of a proxied connection: what it reads goes to the other side, unless the proxy is a
/// black hole. Used on its channel's event loop only, where the other side lives too.
private final class Glue: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: ProxyState
    private var partner: (any Channel)?
    /// What arrived before the other side was connected.
    private var pending: [ByteBuffer] = []

    init(state: ProxyState, partner: (any Channel)? = nil) {
        self.state = state
        self.partner = partner
    }

    func connected(to partner: any Channel) {
        self.partner = partner
        for buffer in pending { forward(buffer) }
        pending = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if partner == nil { pending.append(buffer) } else { forward(buffer) }
    }

    private func forward(_ buffer: ByteBuffer) {
        guard !state.isBlackholed else { return }
        partner?.writeAndFlush(buffer, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.close(promise: nil)
        context.fireChannelInactive()
    }
}
