import ArgumentParser
import Foundation
import PostgresNIO
import Storage

// Measuring helpers the benchmarks share.

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func count(_ sql: String, _ client: PostgresClient) async throws -> Int {
    for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Int.self) { return value }
    return 0
}

/// Polls `condition` every 100 ms. A check is a query that competes with what is measured, so
/// rates come from timestamps the work itself writes (`secondsBetween`), not from this loop.
func waitUntil(timeout: Duration = .seconds(300), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw ValidationError("the benchmark did not finish within \(timeout)") }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// The database's clock, the one the timestamps the measured work writes are taken by.
func databaseNow(_ client: PostgresClient) async throws -> Date {
    for try await now in try await client.query("SELECT clock_timestamp()").decode(Date.self) { return now }
    throw ValidationError("the database did not tell its time")
}

/// Seconds from `start` to the latest `column` in `table` (both by the database's clock).
func secondsBetween(_ start: Date, latest column: String, in table: String, _ client: PostgresClient) async throws -> Double {
    let rows = try await client.query(
        PostgresQuery(unsafeSQL: "SELECT extract(epoch FROM max(\(column)) - $1)::float8 FROM \(table)", binds: try .of(start))
    )
    for try await seconds in rows.decode(Double.self) { return seconds }
    throw ValidationError("\(table) has no \(column)")
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// Runs pgbench with `script`, kept in a temporary file `name`.sql for the run; returns its
/// transactions per second. `transactions` is the total, shared among the clients; `rate`
/// throttles pgbench to that many transactions per second, started on a Poisson schedule.
/// Statements are parsed and planned in every transaction, as the services' are, unless
/// `prepared`, when each client does it once.
func pgbenchRate(
    executable: String, script: String, name: String, clients: Int, transactions: Int, rate: Int? = nil,
    prepared: Bool = false, database: DatabaseConfiguration
) async throws -> Double {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).sql")
    try script.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    return try await onOwnThread {
        try runPgbenchProcess(
            executable: executable, script: file, clients: clients, transactions: transactions, rate: rate, prepared: prepared,
            database: database
        )
    }
}

/// Runs a blocking call (waiting for a child process) on a thread of its own: on an executor
/// thread it would stall every task and connection that thread serves.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

private func runPgbenchProcess(
    executable: String, script: URL, clients: Int, transactions: Int, rate: Int?, prepared: Bool, database: DatabaseConfiguration
) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    // A count (-t), not a duration (-T): pgbench's timer is a signal, which a child of this process may have blocked.
    process.arguments = [
        "-n", "-M", prepared ? "prepared" : "extended", "-c", String(clients), "-j", String(min(clients, 2)), "-t", String(max(1, transactions / clients)),
        "-f", script.path, "-h", database.host, "-p", String(database.port), "-U", database.user, database.database,
    ] + (rate.map { ["--rate", String($0)] } ?? [])
    var environment = ProcessInfo.processInfo.environment
    environment["PGPASSWORD"] = database.password
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
        let tps = Double(line.dropFirst(6).prefix { $0 != " " })
    else { throw ValidationError("pgbench printed no tps line:\n\(text)") }
    return tps
}

/// The CPU time every process of the machine spent, from /proc/stat (Linux): what two runs of
/// different work cost per item, when the cores, not a wait, are what bounds a rate. Nil where
/// there is no /proc/stat.
struct MachineCPU {
    let busy: Double

    /// Milliseconds of CPU the machine spent since `self`, nil when either reading failed.
    static func now() -> MachineCPU? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        // user nice system idle iowait irq softirq steal: everything but idle and iowait is work.
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return nil }
        let work = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
        return MachineCPU(busy: work * 1000 / Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    func milliseconds(since start: MachineCPU?) -> Double? { start.map { busy - $0.busy } }
}
