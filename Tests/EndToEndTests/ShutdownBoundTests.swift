import Foundation
import Testing
import TestSupport

/// SIGTERM ends a service within the bound the README states (15 s), whatever its connections do.
@Suite("Shutdown bound", .serialized, .timeLimit(.minutes(3)))
struct ShutdownBoundTests {
    static let bound: Duration = .seconds(15)

    @Test("a contacts replica whose database stops answering (a black hole: no reset, no reply) exits within 15 s of SIGTERM")
    func databaseBlackholed() async throws {
        let proxy = try await TCPFaultProxy.start(
            to: ProcessInfo.processInfo.environment["SWITCHBOARD_PG_HOST"] ?? "127.0.0.1",
            port: Int(ProcessInfo.processInfo.environment["SWITCHBOARD_PG_PORT"] ?? "5433") ?? 5433
        )
        defer { Task { await proxy.close() } }
        let port = 18_183
        let (process, log) = try LocalStack.start(
            "contacts", executable: "contacts", httpPort: port, overrides: ["SWITCHBOARD_PG_PORT": "\(proxy.port)"]
        )
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let ready = try await TestEnvironment.eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            await LocalStack.status("http://127.0.0.1:\(port)/health/ready") == 200
        }
        try #require(ready, "the replica became ready through the proxy")

        proxy.blackhole()
        // Requests that now wait on the database, as an operator's SIGTERM finds them.
        let stuck = (0..<3).map { _ in
            Task { await LocalStack.status("http://127.0.0.1:\(port)/health/ready", timeout: 30) }
        }
        try await Task.sleep(for: .seconds(2))
        let signalled = ContinuousClock.now
        process.terminate()
        let exited = try await TestEnvironment.eventually(timeout: Self.bound + .seconds(5), every: .milliseconds(100)) {
            !process.isRunning
        }
        let took = ContinuousClock.now - signalled
        for request in stuck { request.cancel() }
        let output = String(decoding: log.fileHandleForReading.availableData, as: UTF8.self)
        #expect(exited, "still running \(took) after SIGTERM:\n\(output.suffix(2_000))")
        #expect(took <= Self.bound + .seconds(1), "exited after \(took)")
    }
}
