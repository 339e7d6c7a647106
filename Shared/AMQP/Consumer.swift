import Logging

/// Consumes queues with manual acknowledgement and a prefetch limit on its own connection.
/// After a reconnect it declares its topology again and resumes; deliveries that were not acked
/// come back redelivered, and an ack for a delivery of the old connection is dropped.
public final class AMQPConsumer: Sendable {
    private let thread: ConnectionThread<ConsumerHandler>
    public let deliveries: AsyncStream<Delivery>

    public init(
        configuration: AMQPConfiguration, topology: Topology = .none, queues: [String], prefetch: UInt16 = 64,
        logger: Logger
    ) {
        let (stream, continuation) = AsyncStream.makeStream(of: Delivery.self)
        deliveries = stream
        thread = ConnectionThread(configuration: configuration, logger: logger)
        thread.start(
            ConsumerHandler(topology: topology, queues: queues, prefetch: prefetch, continuation: continuation),
            name: "amqp-consumer \(configuration.connectionName)"
        )
    }

    public var isConnected: Bool { thread.isConnected }

    public func ack(_ delivery: Delivery) {
        ack([delivery])
    }

    /// Acks several deliveries with one wake-up of the connection's thread.
    public func ack(_ deliveries: [Delivery]) {
        guard !deliveries.isEmpty else { return }
        _ = thread.send(deliveries.map { .ack($0.deliveryTag, generation: $0.connectionGeneration) })
    }

    public func nack(_ delivery: Delivery, requeue: Bool) {
        _ = thread.send([.nack(delivery.deliveryTag, generation: delivery.connectionGeneration, requeue: requeue)])
    }

    /// Sends the acks already queued, then closes; unacked deliveries return to the queue.
    public func close() async {
        await thread.stop(grace: .zero)
    }
}

final class ConsumerHandler: ConnectionHandler {
    enum Command: Sendable {
        case ack(UInt64, generation: Int)
        case nack(UInt64, generation: Int, requeue: Bool)
    }

    private let topology: Topology
    private let queues: [String]
    private let prefetch: UInt16
    private let continuation: AsyncStream<Delivery>.Continuation
    private var generation = 0
    /// Delivery tags handed out and not yet settled, oldest first.
    private var outstanding: [UInt64] = []

    init(topology: Topology, queues: [String], prefetch: UInt16, continuation: AsyncStream<Delivery>.Continuation) {
        self.topology = topology
        self.queues = queues
        self.prefetch = prefetch
        self.continuation = continuation
    }

    var capacity: Int { Int.max }
    var isSettled: Bool { true }

    func connected(_ session: Session, generation: Int) throws(AMQPError) {
        self.generation = generation
        outstanding = []
        try session.declare(topology)
        try session.qos(prefetch: prefetch)
        for queue in queues { try session.consume(queue: queue) }
    }

    /// Acks that settle the oldest outstanding deliveries go out as one `multiple` ack: each ack
    /// is a command the quorum queue writes to its log, and a batch's acks usually arrive together.
    /// The others go one by one; none waits for a later one.
    func execute(_ commands: [Command], on session: Session) throws(AMQPError) {
        var acking = Set<UInt64>()
        for command in commands {
            switch command {
            case let .ack(tag, generation) where generation == self.generation:
                acking.insert(tag)
            case let .nack(tag, generation, requeue) where generation == self.generation:
                try session.nack(tag, requeue: requeue)
                outstanding.removeAll { $0 == tag }
            default:
                break  // the broker already requeued deliveries of a closed connection
            }
        }
        guard !acking.isEmpty else { return }
        var prefix = 0
        while prefix < outstanding.count, acking.remove(outstanding[prefix]) != nil { prefix += 1 }
        if prefix > 0 {
            try session.ack(outstanding[prefix - 1], multiple: prefix > 1)
            outstanding.removeFirst(prefix)
        }
        for tag in acking.sorted() {
            try session.ack(tag)
            outstanding.removeAll { $0 == tag }
        }
    }

    func receive(_ event: Session.Event) throws(AMQPError) {
        switch event {
        case let .delivery(delivery):
            outstanding.append(delivery.deliveryTag)
            continuation.yield(delivery)
        case .cancelled:
            throw .operationFailed(operation: "basic.consume", reason: "the broker cancelled the consumer")
        default:
            break
        }
    }

    func disconnected(because error: AMQPError) {}

    func stopped(unexecuted: [Command]) {
        continuation.finish()
    }
}
