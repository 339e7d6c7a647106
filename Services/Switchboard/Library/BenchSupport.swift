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

func waitUntil(timeout: Duration = .seconds(300), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw ValidationError("the benchmark did not finish within \(timeout)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// Runs pgbench with a script file; returns its transactions per second.
func pgbenchRate(executable: String, script: URL, clients: Int, transactions: Int, database: DatabaseConfiguration) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    // A count (-t), not a duration (-T): pgbench's timer is a signal, which a child of this process may have blocked.
    process.arguments = [
        "-n", "-M", "extended", "-c", String(clients), "-j", String(min(clients, 2)), "-t", String(transactions), "-f", script.path,
        "-h", database.host, "-p", String(database.port), "-U", database.user, database.database,
    ]
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
