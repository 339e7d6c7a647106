import Logging
import PostgresNIO
import ServiceKit
import Storage

/// A database client for one command run, closed when the body returns.
enum OperatorContext {
    static let logger: Logger = {
        var logger = Logger(label: "switchboard")
        logger.logLevel = .warning
        return logger
    }()

    static func withClient<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let configuration = SwitchboardEnvironment().database(defaultUser: "switchboard_admin").clientConfiguration
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            // The child starts the client before the body leases from it, or PostgresNIO warns
            // that run() was not called yet: the yield lets the child's job go first.
            await Task.yield()
            let result = try await body(client)
            group.cancelAll()
            return result
        }
    }
}
