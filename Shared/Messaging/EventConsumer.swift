import AMQP
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Storage

/// Consumes `<service>.events` (DESIGN.md §4): each delivery is applied once, in one transaction
/// with its inbox row; a duplicate is acked unchanged; a message that can never be applied goes to
/// `crm.dlx` with `x-error` and `x-failed-by` and is then acked. While the database cannot be
/// reached, deliveries wait in hand until it can; any other failure is nacked with requeue after a
/// back-off, and dead-lettered with its reason on the last delivery the queue's limit allows.
/// Deliveries are spread over lanes by aggregate: every event of one aggregate takes the same lane
/// and applies in the order it arrived, so in the order published. Lanes apply side by side, each
/// on its own connection, so under load the round trips of one aggregate's handler do not hold up
/// all the others; the deliveries that arrived together in a lane share a transaction.
public final class EventConsumer: Service, Sendable {
    public enum Outcome: Sendable, Equatable {
        case applied, duplicate, deadLettered(String), retried(String)
    }

    private let service: String
    private let outbox: Outbox
    private let client: PostgresClient
    private let consumer: AMQPConsumer
    private let publisher: AMQPPublisher
    private let handlers: [String: EventHandler]
    private let logger: Logger
    private let consumed: Counter
    private let duplicates: Counter
    private let deadLettered: Counter
    private let retried: Counter
    private let applyTimer: Metrics.Timer
    /// At most this many deliveries share a transaction (never more than the prefetch hands over).
    private let maximumBatch = 64
    private let lanes: Int
    /// A larger message is dead-lettered unread: no event of ours comes near it (an API body is at
    /// most 1 MiB), and one that does would cost every consumer its memory and its database.
    private let maximumEventBytes: Int
    /// The delivery limit of the service's queue (`CRMTopology.consumer`).
    private let deliveryLimit: Int64
    private let patience: DatabasePatience

    public static let defaultMaximumEventBytes = 2 << 20

    /// Two. On two cores `bench messaging` applied 4,068–5,266 events/s with two lanes against
    /// 3,936–4,293 with four (a backlog splits into fewer, larger batches), and at 1,000 events/s
    /// the p99 of its 20-second runs was 22–63 ms (one of 13 runs above 50) against 45–110 ms:
    /// the lanes made about as many transactions either way, but four at once on two cores each
    /// waited longer between their round trips. More cores for the database may want more.
    public static let defaultLanes = 2

    public init(
        service: String, schema: SchemaName, client: PostgresClient, consumer: AMQPConsumer,
        publisher: AMQPPublisher, handlers: [EventHandler], lanes: Int = EventConsumer.defaultLanes,
        maximumEventBytes: Int = EventConsumer.defaultMaximumEventBytes, deliveryLimit: Int64 = CRMTopology.defaultDeliveryLimit,
        logger: Logger
    ) {
        self.deliveryLimit = deliveryLimit
        self.service = service
        self.lanes = max(1, lanes)
        self.maximumEventBytes = maximumEventBytes
        outbox = Outbox(schema: schema)
        self.client = client
        patience = DatabasePatience(client: client, logger: logger)
        self.consumer = consumer
        self.publisher = publisher
        self.handlers = Dictionary(handlers.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
        let dimensions = [("service", service)]
        consumed = Counter(label: "switchboard_events_consumed_total", dimensions: dimensions)
        duplicates = Counter(label: "switchboard_events_duplicate_total", dimensions: dimensions)
        deadLettered = Counter(label: "switchboard_events_dead_lettered_total", dimensions: dimensions)
        retried = Counter(label: "switchboard_events_retried_total", dimensions: dimensions)
        applyTimer = Metrics.Timer(label: "switchboard_event_apply_duration_seconds", dimensions: dimensions)
    }

    /// The routing keys to bind `<service>.events` to.
    public static func topology(service: String, handlers: [EventHandler]) -> Topology {
        CRMTopology.consumer(service: service, eventTypes: handlers.map(\.type).sorted())
    }

    public func run() async throws {
        let buffers = (0..<lanes).map { _ in DeliveryBuffer<Arrival>() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // On graceful shutdown stop taking deliveries; what is in hand finishes and is acked first.
                for await delivery in self.consumer.deliveries.cancelOnGracefulShutdown() {
                    let arrival = Arrival(delivery: delivery, prepared: self.prepare(delivery))
                    buffers[self.lane(of: arrival)].append(arrival)
                }
                for buffer in buffers { buffer.finish() }
            }
            for buffer in buffers {
                group.addTask {
                    while let batch = await buffer.take(max: self.maximumBatch) { await self.applyTogether(batch) }
                }
            }
            try await group.waitForAll()
        }
        await consumer.close()
    }

    /// A delivery decoded and matched to its handler, or refused for good with the reason.
    struct Arrival: Sendable {
        var delivery: Delivery
        var prepared: Result<(EventEnvelope, EventHandler), PermanentEventError>
    }

    /// Every event of an aggregate takes the same lane; one that cannot be decoded may take any.
    private func lane(of arrival: Arrival) -> Int {
        guard case let .success((envelope, _)) = arrival.prepared else { return 0 }
        return Int(UInt(bitPattern: envelope.aggregateId.hashValue) % UInt(lanes))
    }

    /// Applies the deliveries that arrived together, as one lane does.
    func process(batch: [Delivery]) async {
        await applyTogether(batch.map { Arrival(delivery: $0, prepared: prepare($0)) })
    }

    /// Applies arrivals in one transaction, in order: one commit for many events instead of one
    /// each. If any of them fails, the transaction is rolled back and each is applied on its own,
    /// so one bad event neither blocks nor takes down the others.
    private func applyTogether(_ arrivals: [Arrival]) async {
        guard arrivals.count > 1 else {
            if let arrival = arrivals.first { await process(arrival) }
            return
        }
        let start = ContinuousClock.now
        var decoded: [(Arrival, EventEnvelope, EventHandler)] = []
        for arrival in arrivals {
            switch arrival.prepared {
            case let .success((envelope, handler)): decoded.append((arrival, envelope, handler))
            case let .failure(reason): await settle(arrival.delivery, .deadLettered(reason.reason), since: start)
            }
        }
        guard !decoded.isEmpty else { return }
        let events = decoded.map { ($0.1, $0.2) }
        do {
            let outcomes = try await patience.untilTheDatabaseAnswers {
                try await self.client.transaction(logger: self.logger) { connection in
                    // Handlers of two lanes that touch the same rows in opposite orders deadlock, and
                    // PostgreSQL looks for that only after a second. A batch that waits this long gives
                    // way instead and its events go one at a time, each holding far fewer locks.
                    try await self.applyInTransaction(events, lockTimeout: self.lanes > 1 ? "100ms" : nil, on: connection)
                }
            }
            // Applied or duplicate, each of them: acked together.
            for outcome in outcomes { count(outcome, since: start) }
            consumer.ack(decoded.map(\.0.delivery))
        } catch where Task.isShuttingDownGracefully && DatabaseFault.kind(of: error) == .connectivity {
            // Left for the next consumer, all at once: one by one, each would try the database
            // that does not answer again, beyond the shutdown's bound.
            for (arrival, _, _) in decoded { consumer.nack(arrival.delivery, requeue: true) }
        } catch {
            logger.debug("batch failed, applying its events one by one", metadata: ["error": "\(error)"])
            for (arrival, _, _) in decoded { await process(arrival) }
        }
    }

    /// Applies one delivery and settles it with the broker.
    @discardableResult
    public func process(_ delivery: Delivery) async -> Outcome {
        await process(Arrival(delivery: delivery, prepared: prepare(delivery)))
    }

    @discardableResult
    private func process(_ arrival: Arrival) async -> Outcome {
        let start = ContinuousClock.now
        return await settle(arrival.delivery, await outcome(of: arrival), since: start)
    }

    private func count(_ outcome: Outcome, since start: ContinuousClock.Instant) {
        switch outcome {
        case .applied:
            consumed.increment()
            applyTimer.recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        case .duplicate:
            duplicates.increment()
        case .deadLettered, .retried:
            break
        }
    }

    @discardableResult
    private func settle(_ delivery: Delivery, _ outcome: Outcome, since start: ContinuousClock.Instant) async -> Outcome {
        count(outcome, since: start)
        switch outcome {
        case .applied, .duplicate:
            consumer.ack(delivery)
        case let .deadLettered(reason):
            do {
                try await publisher.publish(.deadLetter(of: delivery, reason: reason, failedBy: service))
                deadLettered.increment()
                logger.error("event dead-lettered", metadata: ["type": "\(delivery.routingKey)", "error": "\(reason)"])
                consumer.ack(delivery)
            } catch {
                logger.error("cannot dead-letter; will retry", metadata: ["error": "\(error)"])
                await delivery.backOff()
                consumer.nack(delivery, requeue: true)
                return .retried("dead-lettering failed: \(error)")
            }
        case let .retried(reason):
            // Its last delivery before the queue's limit: dead-lettered here, with the reason,
            // rather than by the broker, which says nothing of why.
            if delivery.deliveryCount + 1 >= deliveryLimit && !Task.isShuttingDownGracefully {
                return await settle(
                    delivery, .deadLettered("failed on each of its \(delivery.deliveryCount + 1) deliveries; the last time: \(reason)"),
                    since: start
                )
            }
            retried.increment()
            logger.warning("event failed, will retry", metadata: ["type": "\(delivery.routingKey)", "error": "\(reason)"])
            if !Task.isShuttingDownGracefully { await delivery.backOff() }
            consumer.nack(delivery, requeue: true)
        }
        return outcome
    }

    /// Decodes the envelope and finds its handler; a failure here is permanent.
    private func prepare(_ delivery: Delivery) -> Result<(EventEnvelope, EventHandler), PermanentEventError> {
        guard delivery.body.count <= maximumEventBytes else {
            return .failure(PermanentEventError("the message is \(delivery.body.count) bytes, over the limit of \(maximumEventBytes)"))
        }
        let envelope: EventEnvelope
        do {
            envelope = try EventEnvelope.decode(delivery.body)
        } catch {
            return .failure(PermanentEventError("cannot decode the envelope: \(describe(error))"))
        }
        // The broker lets a user publish to crm.events only under its own prefix; an envelope that
        // names another producer, or another type than its routing key, was forged or mangled.
        // (An operator's replay arrives through the default exchange, under the queue's name.)
        guard delivery.exchange != CRMTopology.eventsExchange || envelope.type == delivery.routingKey else {
            return .failure(PermanentEventError("the envelope's type '\(envelope.type)' is not its routing key '\(delivery.routingKey)'"))
        }
        guard envelope.type.hasPrefix(envelope.producer + ".") else {
            return .failure(PermanentEventError("the producer '\(envelope.producer)' does not publish '\(envelope.type)': its events start with '\(envelope.producer).'"))
        }
        guard let handler = handlers[envelope.type] else {
            return .failure(PermanentEventError("no handler for event type '\(envelope.type)'"))
        }
        guard handler.versions.contains(envelope.version) else {
            return .failure(PermanentEventError("unsupported version \(envelope.version) of '\(envelope.type)'"))
        }
        return .success((envelope, handler))
    }

    /// The inbox rows (one statement for all), then each new event's handler in order, on a
    /// connection inside a transaction. A message id the inbox returns is new, and applied once.
    /// A `lockTimeout` holds for the rest of the transaction; the inbox statement sets it, which
    /// spares a round trip.
    private func applyInTransaction(
        _ events: [(EventEnvelope, EventHandler)], lockTimeout: String? = nil, on connection: PostgresConnection
    ) async throws -> [Outcome] {
        var fresh = Set<UUID>()
        let rows = try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(outbox.schema.table("inbox")) (message_id, type)
                    SELECT * FROM unnest($1::uuid[], $2::text[])
                    WHERE $3 = '' OR set_config('lock_timeout', $3, true) IS NOT NULL
                    ON CONFLICT DO NOTHING RETURNING message_id
                    """,
                binds: try .of(events.map(\.0.id), events.map(\.0.type), lockTimeout ?? "")
            ),
            logger: logger
        )
        for try await id in rows.decode(UUID.self) { fresh.insert(id) }
        let context = EventContext(connection: connection, outbox: outbox, logger: logger)
        var outcomes: [Outcome] = []
        var run: (together: EventHandler.Together, events: [EventEnvelope])?
        func applyRun() async throws {
            guard let (together, events) = run else { return }
            run = nil
            try await together.apply(events, context)
        }
        for (envelope, handler) in events {
            guard fresh.remove(envelope.id) != nil else {
                outcomes.append(.duplicate)
                continue
            }
            outcomes.append(.applied)
            if let together = handler.together {
                if run?.together.group == together.group {
                    run?.events.append(envelope)
                } else {
                    try await applyRun()
                    run = (together, [envelope])
                }
                continue
            }
            try await applyRun()
            try await handler.apply(envelope, context)
        }
        try await applyRun()
        return outcomes
    }

    private func outcome(of arrival: Arrival) async -> Outcome {
        let envelope: EventEnvelope
        let handler: EventHandler
        switch arrival.prepared {
        case let .success(prepared): (envelope, handler) = prepared
        case let .failure(error): return .deadLettered(error.reason)
        }
        do {
            return try await patience.untilTheDatabaseAnswers {
                try await self.client.transaction(logger: self.logger) { connection in
                    try await self.applyInTransaction([(envelope, handler)], on: connection)[0]
                }
            }
        } catch let permanent as PermanentEventError {
            return .deadLettered(permanent.reason)
        } catch let error as DecodingError {
            return .deadLettered("invalid event data: \(describe(error))")
        } catch where DatabaseFault.kind(of: error) == .data {
            // The same values fail the same way on every delivery: NUL in a text, a check.
            return .deadLettered("the database cannot store it: \(DatabaseFault.reason(error))")
        } catch {
            return .retried(String(reflecting: error))
        }
    }

    private func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
        case let DecodingError.dataCorrupted(context):
            "\(context.debugDescription) at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        default:
            "\(error)"
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
