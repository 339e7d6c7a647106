import Foundation
import Logging
import Synchronization

/// Publishes with publisher confirms on its own connection. `publish` returns once the broker has
/// confirmed the message and throws on nack, return (unroutable with `mandatory`) or a lost connection.
/// Many publishes are in flight at once, up to `confirmWindow`; while the broker is away they wait
/// and go out after the reconnect.
public final class AMQPPublisher: Sendable {
    private let thread: ConnectionThread<PublisherHandler>

    public init(
        configuration: AMQPConfiguration, topology: Topology = .none, confirmWindow: Int = 1024, logger: Logger
    ) {
        thread = ConnectionThread(configuration: configuration, logger: logger)
        thread.start(
            PublisherHandler(topology: topology, confirmWindow: confirmWindow),
            name: "amqp-publisher \(configuration.connectionName)"
        )
    }

    public var isConnected: Bool { thread.isConnected }

    public func publish(_ message: OutgoingMessage) async throws(AMQPError) {
        let result = await publish([message])[0]
        try result.get()
    }

    /// Publishes in order; each result says whether that message was confirmed.
    public func publish(_ messages: [OutgoingMessage]) async -> [Result<Void, AMQPError>] {
        await send(messages).results()
    }

    /// Hands the messages to the connection thread before it returns, so what one task sends in
    /// two calls reaches the broker in the order of the calls. Two `publish` calls made from two
    /// child tasks promise no order: either task may run first.
    public func send(_ messages: [OutgoingMessage]) -> PublishConfirms {
        let confirms = PublishConfirms(count: messages.count)
        guard !messages.isEmpty else { return confirms }
        let commands = messages.enumerated().map { index, message in
            PublisherHandler.Command(message: message) { confirms.set(index, $0) }
        }
        if !thread.send(commands) {
            for command in commands { command.completion(.failure(.closed)) }
        }
        return confirms
    }

    /// Waits up to `grace` for outstanding confirms, then closes the connection.
    public func close(grace: Duration = .seconds(5)) async {
        await thread.stop(grace: grace)
    }
}

/// The broker's answers to one `send`, in the order of its messages.
public final class PublishConfirms: Sendable {
    private struct State {
        var results: [Result<Void, AMQPError>?]
        var remaining: Int
        var waiter: CheckedContinuation<[Result<Void, AMQPError>], Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(results: Array(repeating: nil, count: count), remaining: count))
    }

    func set(_ index: Int, _ result: Result<Void, AMQPError>) {
        let complete: (CheckedContinuation<[Result<Void, AMQPError>], Never>, [Result<Void, AMQPError>])? =
            state.withLock { state in
                guard state.results[index] == nil else { return nil }
                state.results[index] = result
                state.remaining -= 1
                guard state.remaining == 0, let waiter = state.waiter else { return nil }
                state.waiter = nil
                return (waiter, state.results.map { $0! })
            }
        if let (waiter, results) = complete { waiter.resume(returning: results) }
    }

    /// Returns once every message is confirmed or failed. One task awaits it.
    public func results() async -> [Result<Void, AMQPError>] {
        await withCheckedContinuation { continuation in
            let complete: [Result<Void, AMQPError>]? = state.withLock { state in
                guard state.remaining > 0 else { return state.results.map { $0! } }
                precondition(state.waiter == nil, "PublishConfirms.results() awaited twice")
                state.waiter = continuation
                return nil
            }
            if let complete { continuation.resume(returning: complete) }
        }
    }
}

final class PublisherHandler: ConnectionHandler {
    struct Command: Sendable {
        var message: OutgoingMessage
        var completion: @Sendable (Result<Void, AMQPError>) -> Void
    }

    private struct InFlight {
        var tag: UInt64
        var command: Command
        var returned: AMQPError?
    }

    private let topology: Topology
    private let confirmWindow: Int
    private var nextTag: UInt64 = 1
    /// Ordered by tag: confirms with `multiple` settle a prefix.
    private var inFlight: [InFlight] = []

    init(topology: Topology, confirmWindow: Int) {
        self.topology = topology
        self.confirmWindow = confirmWindow
    }

    var capacity: Int { confirmWindow - inFlight.count }
    var isSettled: Bool { inFlight.isEmpty }

    func connected(_ session: Session, generation: Int) throws(AMQPError) {
        try session.declare(topology)
        try session.enableConfirms()
        nextTag = 1
    }

    func execute(_ commands: [Command], on session: Session) throws(AMQPError) {
        for command in commands { try execute(command, on: session) }
    }

    private func execute(_ command: Command, on session: Session) throws(AMQPError) {
        var command = command
        // A return names no delivery tag; the message id is how it finds its message.
        if command.message.properties.messageId == nil {
            command.message.properties.messageId = UUID().uuidString
        }
        inFlight.append(InFlight(tag: nextTag, command: command))
        nextTag += 1
        try session.publish(command.message)
    }

    func receive(_ event: Session.Event) throws(AMQPError) {
        switch event {
        case let .ack(tag, multiple):
            settle(tag: tag, multiple: multiple) { $0.returned.map { .failure($0) } ?? .success(()) }
        case let .nack(tag, multiple):
            settle(tag: tag, multiple: multiple) {
                .failure(.nacked(exchange: $0.command.message.exchange, routingKey: $0.command.message.routingKey))
            }
        case let .returned(messageId, code, text):
            if let index = inFlight.firstIndex(where: {
                $0.returned == nil && $0.command.message.properties.messageId == messageId
            }) {
                let message = inFlight[index].command.message
                inFlight[index].returned = .returned(
                    exchange: message.exchange, routingKey: message.routingKey, replyCode: code, replyText: text
                )
            }
        default:
            break
        }
    }

    private func settle(tag: UInt64, multiple: Bool, result: (InFlight) -> Result<Void, AMQPError>) {
        if multiple {
            let end = inFlight.firstIndex { $0.tag > tag } ?? inFlight.count
            for entry in inFlight[..<end] { entry.command.completion(result(entry)) }
            inFlight.removeFirst(end)
        } else if let index = inFlight.firstIndex(where: { $0.tag == tag }) {
            let entry = inFlight.remove(at: index)
            entry.command.completion(result(entry))
        }
    }

    func disconnected(because error: AMQPError) {
        let reason = "\(error)"
        for entry in inFlight { entry.command.completion(.failure(.connectionLost(reason: reason))) }
        inFlight = []
    }

    func stopped(unexecuted: [Command]) {
        for entry in inFlight { entry.command.completion(.failure(.closed)) }
        inFlight = []
        for command in unexecuted { command.completion(.failure(.closed)) }
    }
}
