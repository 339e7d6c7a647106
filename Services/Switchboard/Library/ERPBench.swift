import AMQP
import ArgumentParser
import AsyncHTTPClient
import Catalogue
import Crypto
import ERPBridgeService
import Foundation
import Messaging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceKit
import Storage
import Synchronization

/// `switchboard bench erp`: the ERP bridge against the running suite, in four figures, each from
/// this run: orders applied per second beside the platform's own consume-and-apply rate, the
/// latency from an ERP's publish to the order through the gateway at a steady rate, a
/// reconciliation of a source-day of 100,000 orders, and a resync of a million customers.
struct ERPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erp",
        abstract: "Inbound orders applied per second against the platform's consume-and-apply rate, publish-to-gateway latency, "
            + "reconciliation of 100,000 orders, resync of 1,000,000 customers."
    )

    @Option(help: "The public API.") var gateway = "http://127.0.0.1:8080"
    @Option(help: "Orders (3 lines each) for the throughput figure.") var orders = 5_000
    @Option(help: "Orders per second for the latency figure.") var rate = 200
    @Option(help: "Seconds the latency figure publishes for.") var latencySeconds = 20
    @Option(help: "Orders in the reconciled source-day.") var reconcileOrders = 100_000
    @Option(help: "Customers the resync sends.") var customers = 1_000_000
    @Flag(help: "Remove the customers the resync seeded into the bridge's replica afterwards.") var clean = false

    func run() async throws {
        EventLoopExecutor.install()
        guard let key = ProcessInfo.processInfo.environment["SWITCHBOARD_ADMIN_KEY"], !key.isEmpty else {
            throw ValidationError("set SWITCHBOARD_ADMIN_KEY to the admin API key")
        }
        let environment = SwitchboardEnvironment()
        let broker = environment.broker(defaultUser: "switchboard_admin", connectionName: "switchboard bench erp")
        let source = "bench_\(UUID().uuidString.prefix(6).lowercased())"
        print("switchboard bench erp: source \(source), \(orders) orders of 3 lines, \(rate)/s for \(latencySeconds) s, "
            + "\(reconcileOrders) orders reconciled, \(customers) customers resynced")
        try await OperatorContext.withClient { client in
            let operations = try ERPOperations(client: client, logger: OperatorContext.logger)
            // The source's queue is left out: its answers go to crm.unrouted, bounded, rather than
            // pile up in a queue nobody reads.
            try await operations.addSource(source) {}
            let publisher = AMQPPublisher(configuration: broker, confirmWindow: 1024, logger: OperatorContext.logger)
            defer { Task { await publisher.close() } }
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let beforePlatform = MachineCPU.now()
                let platform = try await MessagingBench.consumeAndApplyRate(events: orders, broker: broker, client: client)
                let platformCPU = MachineCPU.now()?.milliseconds(since: beforePlatform)
                let (applied, ordersCPU) = try await applyRate(source: source, publisher: publisher, client: client)
                print(String(format: "inbound orders applied          %8.0f orders/s   %.2f of the platform's consume-and-apply rate (%.0f events/s; target >= 0.5)",
                             applied, applied / platform, platform))
                // What each costs the whole machine (broker, database, services, this process),
                // publishing included: a rate the cores bound is at most cores / cost.
                if let event = platformCPU, let order = ordersCPU {
                    let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
                    print(String(format: "  machine CPU per order %.2f ms, per platform event %.2f ms (%.1f times as much); on %.0f cores at most %.0f orders/s",
                                 order / Double(orders), event / Double(orders), order / event, cores, cores * 1000 * Double(orders) / order))
                }
                let latencies = try await latency(source: source, publisher: publisher, api: BenchAPI(http: http, base: gateway, key: key), client: client)
                print(String(format: "publish to visible (gateway)    p50 %6.0f ms   p99 %6.0f ms   max %6.0f ms at %d/s (target p99 <= 250 ms)",
                             percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.last ?? .nan, rate))
                let reconciled = try await reconcile(source: source, publisher: publisher, client: client)
                print(String(format: "reconcile a source-day          %8.2f s for %d orders (target <= 5 s)", reconciled, reconcileOrders))
                let (queued, drained) = try await resync(source: source, operations: operations, client: client)
                print(String(format: "resync customers                %8.1f s to queue %d, %.1f s until published (target <= 600 s)",
                             queued, customers, drained))
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
            try? await operations.removeSource(source) {}
        }
    }

    static func order(_ number: String, customer: String, gross: Int, at date: Date = Date()) -> [UInt8] {
        let at = EventCoding.timestamp(date)
        return Array("""
            {"order_number":"\(number)","version":1,"status":"placed","status_at":"\(at)","ordered_at":"\(at)",\
            "customer":{"erp_id":"\(customer)","name":"Bench \(customer)"},"currency":"EUR","lines":[\
            {"line_no":1,"sku":"A","description":"Part A","quantity":"1","unit_price":"10.00","line_total":"10.00"},\
            {"line_no":2,"sku":"B","description":"Part B","quantity":"2","unit_price":"10.00","line_total":"20.00"},\
            {"line_no":3,"sku":"C","description":"Part C","quantity":"3","unit_price":"\(gross).00","line_total":"\(3 * gross).00"}],\
            "totals":{"net":"\(30 + 3 * gross).00","tax":"0.00","gross":"\(30 + 3 * gross).00"}}
            """.utf8)
    }

    func message(_ source: String, _ kind: String, _ body: [UInt8], id: String) -> OutgoingMessage {
        OutgoingMessage(
            exchange: CRMTopology.erpInboundExchange, routingKey: "\(source).\(kind)", body: body,
            properties: MessageProperties(contentType: "application/json", persistent: true, messageId: id)
        )
    }

    /// The source's customers: enough that the latency run gives none more than four orders a day,
    /// so the suspicious-transaction rules find what they would in a real stream, not a burst
    /// from every customer.
    var knownCustomers: Int { max(1_000, rate * latencySeconds / 4) }

    /// Orders published as fast as the broker confirms them, into the running bridge: the rate
    /// from the first publish to the last commit, by the database's clock, and the machine's CPU
    /// meanwhile. Each customer has had an order before (not timed, 200 days ago) and contacts has
    /// made it, as an ERP's customers are mostly known: a new one is a prospect contacts makes,
    /// which is contacts' work and benchmark. A customer's timed orders are a day apart.
    func applyRate(source: String, publisher: AMQPPublisher, client: PostgresClient) async throws -> (rate: Double, cpu: Double?) {
        let customers = knownCustomers
        let day = 86_400.0
        try await publish(
            (0..<customers).map { n in
                message(source, "order", Self.order("W-\(n)", customer: "C\(n)", gross: 1, at: Date() - 200 * day), id: "w-\(n)")
            },
            publisher
        )
        try await waitUntil {
            try await count("SELECT count(*)::int FROM erp_bridge.customer_links WHERE source = '\(source)' AND NOT pending", client) >= customers
        }
        try await settle(client)
        let cpu = MachineCPU.now()
        let start = try await databaseNow(client)
        try await publish(
            (0..<orders).map { n in
                let orderedAt = Date() - day * Double(n / customers + 1)
                return message(source, "order", Self.order("T-\(n)", customer: "C\(n % customers)", gross: n % 97 + 1, at: orderedAt), id: "t-\(n)")
            },
            publisher
        )
        let inbox = "erp_bridge.inbound_messages WHERE source = '\(source)' AND message_id LIKE 't-%'"
        try await waitUntil { try await count("SELECT count(*)::int FROM \(inbox)", client) >= orders }
        let rate = Double(orders) / (try await secondsBetween(start, latest: "received_at", in: inbox, client))
        return (rate, MachineCPU.now()?.milliseconds(since: cpu))
    }

    /// Waits until the services have published everything they wrote (the answers and events of
    /// what came before), so that a figure starts on a quiet machine.
    func settle(_ client: PostgresClient) async throws {
        let unpublished = ServiceCatalogue.all.map(\.name)
            .map { "(SELECT count(*) FROM (SELECT FROM \($0).outbox WHERE published_at IS NULL LIMIT 1) x)" }.joined(separator: " + ")
        try await waitUntil { try await count("SELECT (\(unpublished))::int", client) == 0 }
        try await Task.sleep(for: .seconds(1))
    }

    private func publish(_ messages: [OutgoingMessage], _ publisher: AMQPPublisher) async throws {
        for batch in stride(from: 0, to: messages.count, by: 500) {
            for result in await publisher.publish(Array(messages[batch..<min(messages.count, batch + 500)])) { try result.get() }
        }
    }

    /// Orders of the known customers at `rate` per second, once the machine is quiet; a reader
    /// lists the source's newest orders through the gateway every 20 ms and notes when each first
    /// shows. The figure includes up to one poll's wait. A page holds 100 orders and more may
    /// commit between two polls, so the reader also lists the quarter second after the oldest
    /// order not shown yet.
    func latency(source: String, publisher: AMQPPublisher, api: BenchAPI, client: PostgresClient) async throws -> [Double] {
        let total = rate * latencySeconds
        let published = Published()
        let reader = Task {
            var seen: [String: Double] = [:]
            let orders = "/api/v1/orders?source=\(source)&limit=100&from="
            let newest = orders + EventCoding.timestamp(Date().addingTimeInterval(-1))
            while seen.count < total, !Task.isCancelled {
                var paths = [newest]
                if let oldest = published.oldest(notIn: seen) {
                    paths.append(orders + EventCoding.timestamp(oldest.addingTimeInterval(-0.001)) + "&to="
                        + EventCoding.timestamp(oldest.addingTimeInterval(0.25)))
                }
                for path in paths {
                    guard let answer = try? await api.send(.GET, path) else { continue }
                    let now = ContinuousClock.now
                    for number in (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["items"]
                        .flatMap({ $0 as? [[String: Any]] })?.compactMap({ $0["order_number"] as? String }) ?? []
                    where seen[number] == nil {
                        if let sent = published.at(number) { seen[number] = Self.milliseconds(now - sent) }
                    }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return seen.values.sorted()
        }
        try await settle(client)
        let interval = Duration.seconds(1) / rate
        let start = ContinuousClock.now
        for n in 0..<total {
            let due = start + interval * n
            if due > ContinuousClock.now { try await Task.sleep(until: due) }
            let number = "L-\(n)"
            let orderedAt = Date()
            published.note(number, orderedAt: orderedAt)
            try await publisher.publish(
                message(source, "order", Self.order(number, customer: "C\(n % knownCustomers)", gross: n % 89 + 1, at: orderedAt), id: "l-\(n)")
            )
        }
        let deadline = Task {
            try await Task.sleep(for: .seconds(30))
            reader.cancel()
        }
        let latencies = await reader.value
        deadline.cancel()
        guard latencies.count == total else { throw BenchFailure("only \(latencies.count) of \(total) orders showed through the gateway") }
        return latencies
    }

    /// A source-day of orders written straight into the bridge's table (as the contacts bench
    /// seeds its million), then the source's control totals for it with three differences,
    /// published; the figure runs until the report is stored.
    func reconcile(source: String, publisher: AMQPPublisher, client: PostgresClient) async throws -> Double {
        let day = "2026-01-15"
        try await client.withTransaction(logger: OperatorContext.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO erp_bridge.orders (id, source, order_number, version, status, status_at, ordered_at, erp_customer_id,
                    matched_by, customer, currency, gross)
                SELECT gen_random_uuid(), '\(source)', 'R-' || n, 1 + n % 3, 'placed', '\(day)T12:00:00Z', '\(day)T08:00:00Z'::timestamptz + n * interval '1 ms',
                    'R' || n % 5000, 'erp_id', '{}', 'EUR', 100 + n % 50
                FROM generate_series(1, \(reconcileOrders)) AS n
                """), logger: OperatorContext.logger)
        }
        var lines: [ControlLine] = []
        lines.reserveCapacity(reconcileOrders)
        for n in 1...reconcileOrders where n != 7 {
            lines.append(ControlLine(orderNumber: "R-\(n)", version: 1 + n % 3 + (n == 11 ? 1 : 0), status: n == 13 ? "shipped" : "placed",
                                     gross: "\(100 + n % 50).00"))
        }
        lines.append(ControlLine(orderNumber: "R-missing", version: 1, status: "placed", gross: "1.00"))
        let text = lines.map { "\($0.orderNumber)|\($0.version)|\($0.status)|\($0.gross)" }.sorted().joined(separator: "\n")
        let digest = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        let body = try JSONSerialization.data(withJSONObject: [
            "date": day, "digest": digest,
            "orders": lines.map { ["order_number": $0.orderNumber, "version": $0.version, "status": $0.status, "gross": $0.gross] as [String: Any] },
        ])
        let start = ContinuousClock.now
        try await publisher.publish(message(source, "control", Array(body), id: "control-\(day)"))
        try await waitUntil(timeout: .seconds(120)) {
            try await count("SELECT count(*)::int FROM erp_bridge.reconciliations WHERE source = '\(source)' AND day = '\(day)'", client) > 0
        }
        let elapsed = seconds(since: start)
        let differences = try await count("""
            SELECT jsonb_array_length(differences) FROM erp_bridge.reconciliations WHERE source = '\(source)' AND day = '\(day)'
            """, client)
        guard differences == 4 else { throw BenchFailure("the reconciliation found \(differences) differences, not the 4 made") }
        try await client.withTransaction(logger: OperatorContext.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM erp_bridge.orders WHERE source = '\(source)' AND order_number LIKE 'R-%'"), logger: OperatorContext.logger)
        }
        return elapsed
    }

    struct ControlLine {
        var orderNumber: String
        var version: Int
        var status: String
        var gross: String
    }

    /// A million customers in the bridge's replica (seeded straight into it once and kept for the
    /// next run, tagged `bench` in their documents, unless `--clean`), sent to the source by
    /// `resync-customers`; then until the relay has published them all (to crm.unrouted: the bench
    /// source has no queue).
    func resync(source: String, operations: ERPOperations, client: PostgresClient) async throws -> (queued: Double, drained: Double) {
        let seeded = try await count("SELECT count(*)::int FROM erp_bridge.crm_contacts WHERE document->>'bench' = 'true'", client)
        if seeded < customers {
            try await client.withTransaction(logger: OperatorContext.logger) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO erp_bridge.crm_contacts (id, version, email_keys, phone_keys, document)
                    SELECT gen_random_uuid(), 1, ARRAY['bench' || n || '@example.com'], '{}',
                        jsonb_build_object('bench', true, 'first_name', 'Bench', 'last_name', 'Customer ' || n,
                            'emails', jsonb_build_array(jsonb_build_object('address', 'bench' || n || '@example.com', 'primary', true)),
                            'phones', '[]'::jsonb, 'address', jsonb_build_object('city', 'Berlin', 'country', 'DE'), 'customer_type', 'customer')
                    FROM generate_series(\(seeded + 1), \(customers)) AS n
                    """), logger: OperatorContext.logger)
            }
        }
        let start = ContinuousClock.now
        let sent = try await operations.resyncCustomers(source: source, since: nil)
        let queued = seconds(since: start)
        guard sent >= customers else { throw BenchFailure("the resync queued \(sent) customers, fewer than the \(customers) seeded") }
        try await waitUntil(timeout: .seconds(1_800)) {
            try await count("""
                SELECT count(*)::int FROM (SELECT FROM erp_bridge.outbox WHERE published_at IS NULL AND routing_key = '\(source).customer' LIMIT 1) x
                """, client) == 0
        }
        let drained = seconds(since: start)
        if clean {
            try await client.withTransaction(logger: OperatorContext.logger) { connection in
                try await connection.query("DELETE FROM erp_bridge.crm_contacts WHERE document->>'bench' = 'true'", logger: OperatorContext.logger)
            }
        }
        return (queued, drained)
    }
}

extension ERPBench {
    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

/// The publish instants of the latency figure's orders, by number.
final class Published: Sendable {
    /// In publish order, and when each was published and says it was ordered, by number.
    private let orders = Mutex<(numbers: [String], times: [String: (instant: ContinuousClock.Instant, orderedAt: Date)])>(([], [:]))

    func note(_ number: String, orderedAt: Date) {
        orders.withLock {
            $0.numbers.append(number)
            $0.times[number] = (.now, orderedAt)
        }
    }

    func at(_ number: String) -> ContinuousClock.Instant? { orders.withLock { $0.times[number]?.instant } }

    /// The order time of the earliest published order not in `seen`.
    func oldest(notIn seen: [String: Double]) -> Date? {
        orders.withLock { orders in orders.numbers.first { seen[$0] == nil }.flatMap { orders.times[$0]?.orderedAt } }
    }
}
