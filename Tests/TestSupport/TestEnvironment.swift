import AMQP
import Foundation
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// The real PostgreSQL and RabbitMQ that `compose/local.sh test` starts, as administrator, and
/// names no other test uses, so tests need no clean-up order.
public enum TestEnvironment {
    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }()

    public static var database: DatabaseConfiguration {
        SwitchboardEnvironment().database(defaultUser: "switchboard_admin")
    }

    public static func broker(_ name: String = "test") -> AMQPConfiguration {
        var configuration = SwitchboardEnvironment().broker(defaultUser: "switchboard_admin", connectionName: name)
        configuration.reconnectDelay = ReconnectDelay(initial: .milliseconds(100), maximum: .seconds(1))
        return configuration
    }

    /// A fresh lower-case identifier: schema, service and queue names of one test.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `body` with a live pool; the pool stops when it returns.
    public static func withClient<T: Sendable>(_ body: (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    public static func eventually(
        timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(100),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: interval)
        }
        return try await condition()
    }

    public static func count(_ sql: String, _ client: PostgresClient) async throws -> Int {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        for try await value in rows.decode(Int.self) { return value }
        return 0
    }

    /// Runs an outside command (rabbitmqctl) and fails when it fails.
    public static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }

    public static var rabbitmqctl: String {
        ProcessInfo.processInfo.environment["SWITCHBOARD_RABBITMQCTL"] ?? "/usr/sbin/rabbitmqctl"
    }

    /// Where `swift build` put the executables (the relay probe).
    public static var binPath: String {
        ProcessInfo.processInfo.environment["SWITCHBOARD_BIN_PATH"] ?? ".build/debug"
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
