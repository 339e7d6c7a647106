import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import Storage

/// A service's record of the idempotent requests it carried out (`request_ledger`, a table in
/// every service's schema): the answer, stored in the very commit of the request's effects. The
/// gateway sends a key derived from the caller's `Idempotency-Key`; a request whose key is here
/// is answered from here. So a commit whose outcome was unknown to the caller, or an answer lost
/// with a gateway, is resolved by retrying with the same key: the stored answer if the effects
/// committed, a fresh run if they did not, never the work twice.
public enum RequestLedger {
    public static let keyHeader = "X-Switchboard-Request-Key"
    static let keyField = HTTPField.Name(keyHeader)!
    /// The request's key, when it carries a well-formed one: a streamed upload, which the
    /// middleware does not hold, records it itself.
    public static func key(of request: Request) -> String? {
        guard let key = request.headers[keyField], isWellFormed(key) else { return nil }
        return key
    }

    static func isWellFormed(_ key: String) -> Bool {
        key.utf8.count == 64
            && key.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}

/// Runs a POST that carries a request key inside one `SharedTransaction`, records its answer in
/// that transaction and commits; answers a key seen before from the ledger.
public struct RequestLedgerMiddleware<Context: RequestContext>: RouterMiddleware {
    let schema: SchemaName
    let client: PostgresClient
    let logger: Logger

    public init(schema: SchemaName, client: PostgresClient, logger: Logger) {
        self.schema = schema
        self.client = client
        self.logger = logger
    }

    struct Recorded: Sendable {
        var status: Int
        var headers: [String: String]
        var body: ByteBuffer

        var response: Response {
            var fields = HTTPFields()
            for (name, value) in headers {
                if let name = HTTPField.Name(name) { fields[name] = value }
            }
            return Response(status: HTTPResponse.Status(code: status), headers: fields, body: .init(byteBuffer: body))
        }
    }

    enum Attempt: Sendable {
        case answered(Response)
        case again
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, let key = request.headers[RequestLedger.keyField] else { return try await next(request, context) }
        guard RequestLedger.isWellFormed(key) else {
            throw Problem.badRequest("\(RequestLedger.keyHeader) must be 64 lower-case hex digits", field: RequestLedger.keyHeader)
        }
        // Only a JSON body, or none: an upload (any other type, or a body of no declared type)
        // streams in many transactions and records its key itself (ImportStore).
        let type = request.headers[.contentType]?.lowercased()
        let hasBody = request.headers[.transferEncoding] != nil || (request.headers[.contentLength].flatMap(Int.init) ?? 0) > 0
        guard type?.hasPrefix("application/json") ?? !hasBody else { return try await next(request, context) }
        // Held whole, so that the handler can run again after a deadlock (the gateway sends a key
        // only with a JSON body, which is at most this large).
        let body = try await request.bodyWithinLimits(maximum: APICoding.maximumBodySize)
        for attempt in 1... {
            if let recorded = try await lookup(key) { return recorded.response }
            var retry = request
            retry.body = .init(buffer: body)
            let fresh = retry
            switch try await run(fresh, key: key, context: context, next: next, lastAttempt: attempt >= 3) {
            case let .answered(response): return response
            case .again: continue
            }
        }
        fatalError("unreachable")
    }

    private func run(
        _ request: Request, key: String, context: Context, next: (Request, Context) async throws -> Response, lastAttempt: Bool
    ) async throws -> Attempt {
        try await client.withConnection { connection in
            let shared = SharedTransaction(client: client, connection: connection, logger: logger)
            do {
                let response = try await SharedTransaction.$current.withValue(shared) { try await next(request, context) }
                guard shared.hasBegun else { return .answered(response) }
                let recorded = try await Self.record(response)
                try await store(recorded, key: key, on: connection)
                try await shared.commit()
                return .answered(recorded.response)
            } catch {
                await shared.rollback(after: error)
                // Another request with the key committed first: its answer is the answer.
                if Self.sqlState(of: error) == "23505", Self.constraint(of: error) == "request_ledger_pkey" { return .again }
                if !lastAttempt, ["40P01", "40001"].contains(Self.sqlState(of: error)) { return .again }
                throw DatabaseFault.normalized(error)
            }
        }
    }

    private func lookup(_ key: String) async throws -> Recorded? {
        var sql = SQLBuilder()
        sql.append("SELECT status, headers::text, body FROM \(schema.table("request_ledger")) WHERE key = \(try sql.bind(key))")
        let statement = sql.query
        return try await client.read(logger: logger) { [logger] connection -> Recorded? in
            for try await (status, headers, body) in try await connection.query(statement, logger: logger).decode((Int, String, ByteBuffer).self) {
                return Recorded(status: status, headers: try JSONDecoder().decode([String: String].self, from: Data(headers.utf8)), body: body)
            }
            return nil
        }
    }

    private func store(_ recorded: Recorded, key: String, on connection: PostgresConnection) async throws {
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(schema.table("request_ledger")) (key, status, headers, body)
            VALUES (\(try sql.bind(key)), \(try sql.bind(recorded.status)),
                \(try sql.bind(String(decoding: try JSONEncoder().encode(recorded.headers), as: UTF8.self)))::jsonb, \(try sql.bind(recorded.body)))
            """)
        let statement = sql.query
        _ = try await connection.guarded { [logger] in try await $0.query(statement, logger: logger) }
    }

    /// The answer with its body read: a document of a few kilobytes.
    static func record(_ response: Response) async throws -> Recorded {
        let collector = Collector()
        try await response.body.write(collector)
        var headers: [String: String] = [:]
        for field in response.headers { headers[field.name.rawName] = field.value }
        return Recorded(status: response.status.code, headers: headers, body: collector.buffer)
    }

    static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    static func constraint(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.constraintName]
    }
}

/// Gathers a response body.
private final class Collector: ResponseBodyWriter, @unchecked Sendable {
    var buffer = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        self.buffer.writeBuffer(&buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
