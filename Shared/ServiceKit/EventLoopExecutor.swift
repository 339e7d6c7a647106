import NIOCore
import NIOPosix

/// Runs Swift concurrency's tasks on SwiftNIO's event loop threads instead of a second pool, so
/// a query's reply resumes its task on the thread that read it rather than after a hand-over to
/// another thread. Every service is mostly database and HTTP round trips; on a small host the
/// hand-overs cost more CPU than the work. Call first thing, before any task runs; the AMQP
/// connections keep their own threads and never block a loop.
public enum EventLoopExecutor {
    @discardableResult
    public static func install() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
