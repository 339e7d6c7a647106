import AMQP
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Storage

/// How a service takes in messages that are not our events: documents an outside system publishes
/// (an ERP's orders), in its own format, answered through the outbox. The intake keeps its own
/// record of what it has seen (the platform's inbox knows event ids only) and decides what a
/// message means; `IntakeConsumer` gives it transactions, lanes, patience with the database and
/// dead letters.
public protocol MessageIntake: Sendable {
    /// The queue it consumes, declared with `topology` by the service's broker user.
    var queue: String { get }
    var topology: Topology { get }
    /// Messages with one key apply in the order they arrived, in one lane.
    func laneKey(of delivery: Delivery) -> String
    /// Applies deliveries in order inside the caller's transaction, one outcome each. A rejected
    /// message has had its answer written (once, however often it comes); it is dead-lettered
    /// after the commit with the reason.
    func apply(_ deliveries: [Delivery], context: EventContext) async throws -> [IntakeOutcome]
    /// Records a message that cannot be applied for a reason found outside `apply` (data the
    /// database refuses, a failure on every delivery), with its answer, in the caller's transaction.
    func reject(_ delivery: Delivery, reason: String, context: EventContext) async throws
    /// Headers a dead letter of this intake carries beside `x-error` (where it came from).
    func deadLetterHeaders(of delivery: Delivery) -> AMQPTable
}

public enum IntakeOutcome: Sendable, Equatable {
    case applied
    case rejected(String)
}

/// Consumes a `MessageIntake`'s queue: the deliveries that arrived together in a lane apply in
/// one transaction (one by one when that fails, so one bad message holds up no other); applied
/// ones are acked after the commit, rejected ones dead-lettered with `x-error` and then acked.
/// While the database cannot be reached, deliveries wait in hand; any other failure is retried
/// after a back-off and, on the last delivery the queue's limit allows, rejected.
public final class IntakeConsumer: Service, Sendable {
    private let service: String
    private let intake: any MessageIntake
    private let outbox: Outbox
    private let client: PostgresClient
    private let consumer: AMQPConsumer
    private let publisher: AMQPPublisher
    private let patience: DatabasePatience
    private let lanes: Int
    private let deliveryLimit: Int64
    private let logger: Logger
    private let applied: Counter
    private let rejected: Counter
    private let maximumBatch = 64

    public init(
        service: String, schema: SchemaName, intake: any MessageIntake, client: PostgresClient, consumer: AMQPConsumer,
        publisher: AMQPPublisher, lanes: Int = EventConsumer.defaultLanes, deliveryLimit: Int64 = CRMTopology.defaultDeliveryLimit,
        logger: Logger
    ) {
        self.service = service
        self.intake = intake
        outbox = Outbox(schema: schema)
        self.client = client
        self.consumer = consumer
        self.publisher = publisher
        patience = DatabasePatience(client: client, logger: logger)
        self.lanes = max(1, lanes)
        self.deliveryLimit = deliveryLimit
        self.logger = logger
        let dimensions = [("service", service), ("queue", intake.queue)]
        applied = Counter(label: "switchboard_intake_applied_total", dimensions: dimensions)
        rejected = Counter(label: "switchboard_intake_rejected_total", dimensions: dimensions)
    }

    public func run() async throws {
        let buffers = (0..<lanes).map { _ in DeliveryBuffer<Delivery>() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await delivery in self.consumer.deliveries.cancelOnGracefulShutdown() {
                    let lane = Int(UInt(bitPattern: self.intake.laneKey(of: delivery).hashValue) % UInt(self.lanes))
                    buffers[lane].append(delivery)
                }
                for buffer in buffers { buffer.finish() }
            }
            for buffer in buffers {
                group.addTask {
                    while let batch = await buffer.take(max: self.maximumBatch) { await self.process(batch) }
                }
            }
            try await group.waitForAll()
        }
        await consumer.close()
    }

    /// Applies a batch in one transaction, or one by one when that fails.
    public func process(_ batch: [Delivery]) async {
        if batch.count > 1 {
            do {
                let outcomes = try await patience.untilTheDatabaseAnswers {
                    try await self.client.transaction(logger: self.logger) { connection in
                        // Two lanes that lock the same rows in opposite orders would deadlock, which
                        // PostgreSQL finds only after a second: a batch gives way sooner instead.
                        try await connection.query("SET LOCAL lock_timeout = '100ms'", logger: self.logger)
                        return try await self.intake.apply(batch, context: self.context(connection))
                    }
                }
                for (delivery, outcome) in zip(batch, outcomes) { await settle(delivery, outcome) }
                return
            } catch where Task.isShuttingDownGracefully && DatabaseFault.kind(of: error) == .connectivity {
                for delivery in batch { consumer.nack(delivery, requeue: true) }
                return
            } catch {
                logger.debug("intake batch failed, applying its messages one by one", metadata: ["error": "\(error)"])
            }
        }
        for delivery in batch { await processOne(delivery) }
    }

    private func processOne(_ delivery: Delivery) async {
        do {
            let outcome = try await patience.untilTheDatabaseAnswers {
                try await self.client.transaction(logger: self.logger) { connection in
                    try await self.intake.apply([delivery], context: self.context(connection))[0]
                }
            }
            await settle(delivery, outcome)
        } catch where DatabaseFault.kind(of: error) == .data {
            // The same values fail the same way on every delivery: NUL in a text, a check.
            await rejectOutside(delivery, reason: "the database cannot store it: \(DatabaseFault.reason(error))")
        } catch where Task.isShuttingDownGracefully || Task.isCancelled {
            consumer.nack(delivery, requeue: true)
        } catch {
            let reason = String(reflecting: error)
            if delivery.deliveryCount + 1 >= deliveryLimit {
                await rejectOutside(delivery, reason: "failed on each of its \(delivery.deliveryCount + 1) deliveries; the last time: \(reason)")
                return
            }
            logger.warning("intake message failed, will retry", metadata: ["key": "\(delivery.routingKey)", "error": "\(reason)"])
            await delivery.backOff()
            consumer.nack(delivery, requeue: true)
        }
    }

    /// Records the rejection (and its answer) in a transaction of its own, then dead-letters.
    private func rejectOutside(_ delivery: Delivery, reason: String) async {
        do {
            try await patience.untilTheDatabaseAnswers {
                try await self.client.transaction(logger: self.logger) { connection in
                    try await self.intake.reject(delivery, reason: reason, context: self.context(connection))
                }
            }
            await settle(delivery, .rejected(reason))
        } catch {
            logger.error("cannot record a rejection; will retry", metadata: ["error": "\(error)"])
            await delivery.backOff()
            consumer.nack(delivery, requeue: true)
        }
    }

    private func settle(_ delivery: Delivery, _ outcome: IntakeOutcome) async {
        switch outcome {
        case .applied:
            applied.increment()
            consumer.ack(delivery)
        case let .rejected(reason):
            do {
                try await publisher.publish(
                    .deadLetter(of: delivery, reason: reason, failedBy: service, headers: intake.deadLetterHeaders(of: delivery))
                )
                rejected.increment()
                logger.notice("intake message rejected", metadata: ["key": "\(delivery.routingKey)", "error": "\(reason)"])
                consumer.ack(delivery)
            } catch {
                // Its answer is written; the next delivery finds it rejected and dead-letters it again.
                logger.error("cannot dead-letter; will retry", metadata: ["error": "\(error)"])
                await delivery.backOff()
                consumer.nack(delivery, requeue: true)
            }
        }
    }

    private func context(_ connection: PostgresConnection) -> EventContext {
        EventContext(connection: connection, outbox: outbox, logger: logger)
    }
}
