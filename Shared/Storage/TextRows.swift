import Logging
import PostgresNIO

extension PostgresClient {
    /// The first column of each row, as text: most reads here select one JSON document per row.
    public func texts(_ query: PostgresQuery, logger: Logger) async throws -> [String] {
        try await read(logger: logger) { try await $0.texts(query, logger: logger) }
    }
}

extension PostgresConnection {
    public func texts(_ query: PostgresQuery, logger: Logger) async throws -> [String] {
        var result: [String] = []
        for try await text in try await self.query(query, logger: logger).decode(String.self) { result.append(text) }
        return result
    }
}

extension PostgresClient {
    /// One writing statement in a transaction of its own; its first column, as text, once committed.
    public func write(_ query: PostgresQuery, logger: Logger) async throws -> [String] {
        try await transaction(logger: logger) { try await $0.texts(query, logger: logger) }
    }
}
