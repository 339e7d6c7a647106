import Foundation
import Logging
import Synchronization

/// What a connection does on its own thread; every method runs on that thread only.
protocol ConnectionHandler: AnyObject {
    associatedtype Command: Sendable
    /// The session is open: declare, enable confirms or start consuming.
    func connected(_ session: Session, generation: Int) throws(AMQPError)
    /// The commands that arrived together, in order.
    func execute(_ commands: [Command], on session: Session) throws(AMQPError)
    func receive(_ event: Session.Event) throws(AMQPError)
    /// The connection broke: settle what cannot survive it.
    func disconnected(because error: AMQPError)
    /// The thread is ending: fail whatever is still waiting.
    func stopped(unexecuted: [Command])
    /// How many more commands it takes now (a publisher's confirm window).
    var capacity: Int { get }
    /// Nothing awaits the broker any more, so a graceful stop may close now.
    var isSettled: Bool { get }
}

/// Owns one OS thread that owns one connection (rabbitmq-c is not thread-safe). Commands come in
/// through a queue and a wake-up pipe; the thread polls the socket and the pipe, so it neither spins
/// nor delays a command, and it services heartbeats while idle.
final class ConnectionThread<Handler: ConnectionHandler>: Sendable {
    private struct Inbox {
        var commands: [Handler.Command] = []
        var stopRequested = false
        var stopDeadline: ContinuousClock.Instant?
        var finished = false
        var connected = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let inbox = Mutex(Inbox())
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let configuration: AMQPConfiguration
    private let logger: Logger

    init(configuration: AMQPConfiguration, logger: Logger) {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "cannot create the AMQP wake-up pipe")
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        self.configuration = configuration
        self.logger = logger
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Starts the thread; `handler` moves to it and is used there only.
    func start(_ handler: sending Handler, name: String) {
        nonisolated(unsafe) let handler = handler
        let thread = Thread { [self] in run(handler) }
        thread.name = name
        thread.start()
    }

    var isConnected: Bool { inbox.withLock { $0.connected } }

    /// Queues commands; false when the thread is stopping (the caller settles them itself).
    func send(_ commands: [Handler.Command]) -> Bool {
        let accepted = inbox.withLock { state in
            guard !state.stopRequested else { return false }
            state.commands.append(contentsOf: commands)
            return true
        }
        if accepted { wake() }
        return accepted
    }

    /// Asks the thread to finish what awaits the broker (up to `grace`) and close; returns when it has.
    func stop(grace: Duration) async {
        await withCheckedContinuation { continuation in
            let done = inbox.withLock { state in
                if state.finished { return true }
                if !state.stopRequested {
                    state.stopRequested = true
                    state.stopDeadline = .now + grace
                }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() } else { wake() }
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    private func take(max: Int) -> (commands: [Handler.Command], stop: Bool, deadline: ContinuousClock.Instant?) {
        inbox.withLock { state in
            let count = Swift.min(Swift.max(max, 0), state.commands.count)
            let taken = Array(state.commands.prefix(count))
            state.commands.removeFirst(count)
            return (taken, state.stopRequested, state.stopDeadline)
        }
    }

    private var stopRequested: Bool { inbox.withLock { $0.stopRequested } }

    private func setConnected(_ value: Bool) {
        inbox.withLock { $0.connected = value }
    }

    private func run(_ handler: Handler) {
        var generation = 0
        var attempt = 0
        while !stopRequested {
            let session: Session
            do {
                session = try Session.open(configuration)
                generation += 1
                try handler.connected(session, generation: generation)
            } catch {
                // The first failure and then every tenth, so an outage does not flood the log.
                logger.log(
                    level: attempt % 10 == 0 ? .warning : .debug, "AMQP connection failed, retrying",
                    metadata: ["error": "\(error)", "attempt": "\(attempt)"]
                )
                sleep(configuration.reconnectDelay.after(attempt: attempt))
                attempt += 1
                continue
            }
            if attempt > 0 { logger.info("AMQP reconnected", metadata: ["attempts": "\(attempt)"]) }
            attempt = 0
            setConnected(true)
            do {
                try serve(session, handler: handler, generation: generation)
                session.close()
                setConnected(false)
                break
            } catch {
                setConnected(false)
                session.abandon()
                logger.warning("AMQP connection lost", metadata: ["error": "\(error)"])
                handler.disconnected(because: error)
                sleep(configuration.reconnectDelay.after(attempt: 0))
            }
        }
        let leftover = take(max: Int.max).commands
        handler.stopped(unexecuted: leftover)
        let waiters = inbox.withLock { state in
            state.finished = true
            state.connected = false
            let waiters = state.waiters
            state.waiters = []
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The frame loop of one open connection; returns on a graceful stop, throws when the connection breaks.
    private func serve(_ session: Session, handler: Handler, generation: Int) throws(AMQPError) {
        let heartbeat = Duration.seconds(max(configuration.heartbeat, 1))
        let pollTimeout = Int32(min(500, max(configuration.heartbeat, 1) * 250))
        var lastInbound = ContinuousClock.now
        while true {
            let (commands, stopping, deadline) = take(max: handler.capacity)
            if !commands.isEmpty { try handler.execute(commands, on: session) }
            if stopping, handler.isSettled || deadline.map({ .now >= $0 }) ?? true { return }

            while true {
                let event = try session.nextEvent(generation: generation)
                if case .timeout = event { break }
                lastInbound = .now
                try handler.receive(event)
            }
            if ContinuousClock.now - lastInbound > heartbeat * 2 + .seconds(1) {
                throw .connectionLost(reason: "no frame or heartbeat from the broker for \(heartbeat * 2)")
            }
            if session.hasBufferedInput { continue }
            var fds = [
                pollfd(fd: session.socketDescriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            _ = poll(&fds, 2, pollTimeout)
            if fds[0].revents != 0 { lastInbound = .now }
            if fds[1].revents != 0 { drainWakePipe() }
        }
    }

    /// A back-off pause that only a stop request cuts short (commands wait for the connection).
    private func sleep(_ duration: Duration) {
        let end = ContinuousClock.now + duration
        while !stopRequested {
            let left = end - .now
            guard left > .zero else { return }
            let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            var fd = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
            if poll(&fd, 1, Int32(max(1, milliseconds))) > 0 { drainWakePipe() }
        }
    }
}
