import AMQP
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Storage
import Synchronization

/// What this replica's relay knows of itself: whether it leads, and why it last stopped. How far
/// the outbox lags is the database's to say (`read()`).
public struct RelayStatus: Sendable {
    public var isLeader = false
    public var lastError: String?
    /// Counts the attempts to lead: an abandoned leadership that ends late must not clear the
    /// status of the one after it.
    var generation = 0
}

/// Publishes a schema's outbox to `crm.events` (DESIGN.md §3). Every replica runs one; the one that
/// holds the schema's advisory lock publishes, in `seq` order and in batches, and marks a row
/// published only once the broker confirmed it. It wakes on `NOTIFY`, and polls as a fallback.
public final class OutboxRelay: Service, Sendable {
    public struct Settings: Sendable {
        public var batchSize = 500
        public var pollInterval: Duration = .seconds(1)
        public var maximumBackoff: Duration = .seconds(5)
        public init() {}
    }

    private let outbox: Outbox
    private let producer: String
    private let database: DatabaseConfiguration
    private let client: PostgresClient
    private let publisher: AMQPPublisher
    private let settings: Settings
    private let logger: Logger
    private let state = Mutex(RelayStatus())
    private let wake = WakeSignal()
    private let published: Counter
    private let failures: Counter
    private let lagGauge: Gauge
    private let leaderGauge: Gauge

    public init(
        schema: SchemaName, producer: String, database: DatabaseConfiguration, client: PostgresClient,
        publisher: AMQPPublisher, settings: Settings = .init(), logger: Logger
    ) {
        outbox = Outbox(schema: schema)
        self.producer = producer
        self.database = database
        self.client = client
        self.publisher = publisher
        self.settings = settings
        self.logger = logger
        let dimensions = [("service", producer)]
        published = Counter(label: "switchboard_events_published_total", dimensions: dimensions)
        failures = Counter(label: "switchboard_outbox_publish_failures_total", dimensions: dimensions)
        lagGauge = Gauge(label: "switchboard_outbox_lag_seconds", dimensions: dimensions)
        leaderGauge = Gauge(label: "switchboard_outbox_relay_leader", dimensions: dimensions)
    }

    public var status: RelayStatus { state.withLock { $0 } }

    private var schema: SchemaName { outbox.schema }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await leadWhenPossible()
            } catch {
                setLeader(false)
                state.withLock { $0.lastError = "\(error)" }
                // The connection broke, or a mark failed (the rows go out again; inboxes absorb it).
                logger.warning("outbox relay stopped leading; it tries again", metadata: ["error": "\(String(reflecting: error))"])
                await pause(settings.pollInterval)
            }
        }
    }

    /// Holds a dedicated connection (a session-level advisory lock belongs to one connection), waits
    /// for the lock, then publishes until shutdown or until that connection fails. Closing the
    /// connection releases the lock for the next replica. The leadership is abandoned the moment the
    /// connection closes: a query written to a connection postgres-nio has already torn down is
    /// never answered, so awaiting the one in flight could wait forever (as it did in a restart).
    private func leadWhenPossible() async throws {
        let generation = state.withLock { state in
            state.generation += 1
            return state.generation
        }
        let connection = try await database.connect(id: Int.random(in: 1...Int(Int32.max)), logger: logger)
        do {
            try await abandonable(abandonWhen: connection.closing, closedError: { ConnectionLost() }) {
                try await self.lead(on: connection, generation: generation)
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    private func lead(on connection: PostgresConnection, generation: Int) async throws {
        while true {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            let rows = try await connection.query("SELECT pg_try_advisory_lock(hashtext(\(lockKey)))", logger: logger)
            var acquired = false
            for try await value in rows.decode(Bool.self) { acquired = value }
            if acquired { break }
            await pause(settings.pollInterval)
        }
        try await connection.query("SET synchronous_commit TO off", logger: logger)
        // The fetch and the mark are prepared statements, whose text names the outbox unqualified.
        try await connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \(schema.quoted)"), logger: logger)
        // The fetch must walk the unpublished index in order. A bitmap scan (the plan PostgreSQL
        // picks for a fresh table) never marks an index entry dead, so every fetch read again the
        // entry of each row marked published since the last vacuum: about 10,000 per fetch at
        // 1,000 events/s. A plain index scan marks each one dead the first time it reads it.
        try await connection.query("SET enable_bitmapscan TO off", logger: logger)
        setLeader(true, generation: generation)
        logger.info("outbox relay is the leader", metadata: ["schema": "\(schema)"])
        defer { setLeader(false, generation: generation) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await connection.listen(on: self.outbox.notificationChannel) { notifications in
                    for try await _ in notifications { self.wake.fire() }
                }
            }
            group.addTask { try await self.publishUntilShutdown(marker: connection) }
            // Either the publishing loop ended (shutdown) or the listening connection broke.
            try await group.next()
            group.cancelAll()
        }
    }

    /// Drains the outbox in `seq` order, keeping up to two batches in flight: the next batch is
    /// read and sent while the broker confirms the last, so an event that commits meanwhile waits
    /// for no confirm round trip but its own. No more than two, so that under load the events that
    /// commit meanwhile gather into one batch rather than cost a read and a mark each. Rows stay in
    /// the flight until their mark commits, and every read starts at the lowest unpublished `seq`
    /// and skips them, so a transaction that took a lower `seq` but committed after a higher one
    /// is still found at once.
    private func publishUntilShutdown(marker connection: PostgresConnection) async throws {
        let flight = Flight(wake: wake)
        // The polling fallback: one timer for as long as this relay leads. A timer per wait cost
        // a task and a timer for every event that woke the relay.
        let ticker = Task { [wake, interval = settings.pollInterval] in
            while (try? await Task.sleep(for: interval)) != nil { wake.fire() }
        }
        defer { ticker.cancel() }
        // Discarding: a plain task group keeps every finished child until `next()` takes it, and
        // this one gains a child per batch for as long as the relay leads. With a plain group the
        // contacts service grew by 82 MiB over about 49,000 creates through the API, one batch
        // each, and kept growing. A child that throws cancels the group: the loop sends nothing
        // more, the batches in flight finish, and the error ends this leadership. Their rows
        // are sent again by the next leader or this one after it reconnects; inboxes absorb that.
        try await withThrowingDiscardingTaskGroup { group in
            while true {
                if group.isCancelled { break }  // a child failed, or this task was cancelled
                let shuttingDown = Task.isShuttingDownGracefully
                let (inFlight, failures) = flight.snapshot
                if failures > 0 {
                    // Leave the rest for the next leader rather than hang the shutdown.
                    if shuttingDown { break }
                    await pause(min(.milliseconds(100) * (1 << min(failures, 10)), settings.maximumBackoff))
                }
                if flight.isFull {
                    await pause()
                    continue
                }
                let records = try await fetch(excluding: inFlight, limit: settings.batchSize, on: connection)
                if let oldest = records.first {
                    recordLag(Date().timeIntervalSince(oldest.createdAt))
                    flight.send(records.map(\.seq))
                    // Sent here, not in the child task: the next batch's task could run first.
                    let confirms = publisher.send(records.map { $0.message(producer: producer) })
                    group.addTask { try await self.markConfirmed(records, confirms, flight: flight, marker: connection) }
                    if records.count == settings.batchSize { continue }  // more are waiting
                } else if inFlight.isEmpty {
                    recordLag(0)
                    if shuttingDown { break }  // drained: this was the flush
                }
                await pause()
            }
        }
    }

    /// Marks what the broker confirmed of a sent batch, then lets its rows go from the flight.
    private func markConfirmed(
        _ records: [OutboxRecord], _ confirms: PublishConfirms, flight: Flight, marker connection: PostgresConnection
    ) async throws {
        var confirmed: [Int64] = []
        var failure: AMQPError?
        for (record, result) in zip(records, await confirms.results()) {
            switch result {
            case .success: confirmed.append(record.seq)
            case let .failure(error): failure = failure ?? error
            }
        }
        defer { flight.land(records.map(\.seq), failed: failure != nil) }
        if !confirmed.isEmpty { try await markPublished(confirmed, on: connection) }
        if let failure {
            failures.increment(by: Int64(records.count - confirmed.count))
            state.withLock { $0.lastError = "\(failure)" }
            logger.warning(
                "outbox publish failed; rows stay unpublished",
                metadata: ["failed": "\(records.count - confirmed.count)", "error": "\(failure)"]
            )
        }
    }

    /// A fetch that takes this long means a connection that is gone without closing (a peer that
    /// vanished from the network): closing it ends the leadership.
    static let fetchLimit: Duration = .seconds(30)

    private func fetch(excluding inFlight: Set<Int64>, limit: Int, on connection: PostgresConnection) async throws -> [OutboxRecord] {
        let statement = OutboxRecord.SelectUnpublished(excluded: Array(inFlight), limit: Int64(limit))
        let logger = logger
        do {
            return try await abandonable(limit: Self.fetchLimit) {
                var records: [OutboxRecord] = []
                for try await record in try await connection.execute(statement, logger: logger) { records.append(record) }
                return records
            }
        } catch is DeadlineExceeded {
            try? await connection.close()
            throw ConnectionLost()
        }
    }

    /// On the leader's own connection, whose commits do not wait for the WAL flush: a mark lost in
    /// a database crash only makes the event go out once more, which consumers' inboxes absorb, and
    /// the flush it saves is the scarcest thing the writers of the outbox and the consumers need.
    private func markPublished(_ seqs: [Int64], on connection: PostgresConnection) async throws {
        _ = try await connection.execute(OutboxRecord.MarkPublished(seqs: seqs), logger: logger)
        published.increment(by: Int64(seqs.count))
    }

    /// What the database says of this outbox now: the age of its oldest unpublished event, and
    /// whether any connection (of any replica) holds the relay's lock. Readiness and the lag gauge
    /// come from here each time they are asked, never from what this replica last saw.
    public struct Reading: Sendable {
        public var lag: Duration
        public var someoneLeads: Bool
    }

    public func read(within limit: Duration = .seconds(2)) async throws -> Reading {
        let query = PostgresQuery(unsafeSQL: """
            SELECT coalesce(extract(epoch FROM now() - (
                        SELECT created_at FROM \(schema.table("outbox")) WHERE published_at IS NULL ORDER BY seq LIMIT 1))::float8, 0),
                   EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                       AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                       AND ((classid::int8 << 32) | objid::int8) = hashtext('\(lockKey)')::int8)
            """)
        let (client, logger) = (client, logger)
        let reading = try await abandonable(limit: limit) {
            try await client.read(logger: logger) { connection -> Reading in
                for try await (seconds, leads) in try await connection.query(query, logger: logger).decode((Double, Bool).self) {
                    return Reading(lag: .milliseconds(Int64(max(0, seconds) * 1000)), someoneLeads: leads)
                }
                return Reading(lag: .zero, someoneLeads: false)
            }
        }
        recordLag(Double(reading.lag.components.seconds) + Double(reading.lag.components.attoseconds) / 1e18)
        return reading
    }

    /// Marks the lag gauge as unknown (NaN) when the database cannot say.
    public func lagUnknown() {
        lagGauge.record(Double.nan)
    }

    var lockKey: String { "switchboard.relay.\(schema.rawValue)" }

    private func recordLag(_ seconds: Double) {
        lagGauge.record(max(0, seconds))
    }

    /// Without a generation: whatever leadership there was has ended.
    private func setLeader(_ leader: Bool, generation: Int? = nil) {
        let current = state.withLock { state in
            guard generation == nil || generation == state.generation else { return false }
            state.isLeader = leader
            return true
        }
        if current { leaderGauge.record(leader ? 1 : 0) }
    }

    /// Sleeps until a `NOTIFY`, a landed batch, the polling ticker (while leading), `timeout` if
    /// there is one, or a graceful shutdown, whichever comes first.
    private func pause(_ timeout: Duration? = nil) async {
        await withGracefulShutdownHandler {
            if let timeout {
                await wake.wait(timeout: timeout)
            } else {
                await wake.wait()
            }
        } onGracefulShutdown: {
            self.wake.fire()
        }
    }
}

/// The batches a leader has sent and not yet marked, and how many in a row failed. A batch that
/// lands wakes the publishing loop when it failed, when the loop waits for room, or when it was the
/// last one out during a shutdown; otherwise only a `NOTIFY` or the polling ticker does.
private final class Flight: Sendable {
    private struct State {
        var seqs: Set<Int64> = []
        var batches = 0
        var failures = 0
        var waitingForRoom = false
    }

    static let maximumBatches = 2

    private let state = Mutex(State())
    private let wake: WakeSignal

    init(wake: WakeSignal) {
        self.wake = wake
    }

    var snapshot: (seqs: Set<Int64>, failures: Int) { state.withLock { ($0.seqs, $0.failures) } }

    func send(_ seqs: [Int64]) {
        state.withLock { state in
            state.seqs.formUnion(seqs)
            state.batches += 1
        }
    }

    /// True when the loop must wait for a batch to land before it sends another.
    var isFull: Bool {
        state.withLock { state in
            state.waitingForRoom = state.batches >= Self.maximumBatches
            return state.waitingForRoom
        }
    }

    func land(_ seqs: [Int64], failed: Bool) {
        let shuttingDown = Task.isShuttingDownGracefully
        let fire = state.withLock { state in
            state.seqs.subtract(seqs)
            state.batches -= 1
            state.failures = failed ? state.failures + 1 : 0
            defer { state.waitingForRoom = false }
            return failed || state.waitingForRoom || (shuttingDown && state.seqs.isEmpty)
        }
        if fire { wake.fire() }
    }
}
