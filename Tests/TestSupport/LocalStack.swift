import Catalogue
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What `compose/local.sh test` runs and tells the tests about: the services' ports, the secrets
/// it generated, its pg_ctl, and a service executable to start beside the running ones.
public enum LocalStack {
    /// Every service of the catalogue, on the port `compose/local.sh` gave it.
    public static let services: [(name: String, executable: String, port: Int)] = ServiceCatalogue.all.map { service in
        (service.name, service.executable,
         ProcessInfo.processInfo.environment["SWITCHBOARD_\(service.variableStem)_PORT"].flatMap(Int.init) ?? service.port)
    }

    /// The prefix of a service's event types, which its broker user may publish under: its name,
    /// but the gateway's are the staff's `identity.*` and the ERP bridge's `erp.*`
    /// (`ServiceDefinition.eventPrefix`).
    public static func eventPrefix(of service: String) -> String { ["gateway": "identity", "erp_bridge": "erp"][service] ?? service }

    public static func baseURL(of service: String) -> String {
        "http://127.0.0.1:\(services.first { $0.name == service }!.port)"
    }

    /// `.local/secrets.env`: one password per role, and the gateway's token.
    public static func secrets() throws -> [String: String] {
        let path = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_SECRETS"] ?? ".local/secrets.env"
        var values: [String: String] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }

    public static func password(of role: String) throws -> String {
        guard let password = try secrets()["SWITCHBOARD_\(role.uppercased())_PASSWORD"] else {
            throw TestFailure("no password for \(role) in the secrets")
        }
        return password
    }

    public static var gatewayToken: String {
        ProcessInfo.processInfo.environment["SWITCHBOARD_GATEWAY_TOKEN"] ?? ""
    }

    /// A call straight to a service's port, with the gateway's token unless `token` is nil.
    public static func call(
        _ service: String, _ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:],
        token: String? = LocalStack.gatewayToken
    ) async throws -> APIClient.Answer {
        var request = URLRequest(url: URL(string: baseURL(of: service) + path)!)
        request.httpMethod = method
        request.timeoutInterval = 60
        request.httpBody = body
        if body != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue(token, forHTTPHeaderField: "X-Switchboard-Gateway-Token") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields["\(name)"] = "\(value)" }
        return APIClient.Answer(status: http.statusCode, headers: fields, body: data)
    }

    /// Runs pg_ctl on the local cluster as its owner (`SWITCHBOARD_PGCTL`), e.g. `restart -m fast`.
    /// Awaited without holding a thread of the cooperative pool, which the services' clients in
    /// the same test need meanwhile.
    public static func pgctl(_ arguments: [String]) async throws {
        guard let pgctl = ProcessInfo.processInfo.environment["SWITCHBOARD_PGCTL"] else {
            throw TestFailure("SWITCHBOARD_PGCTL is not set: run the tests through compose/local.sh test")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pgctl)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        guard status == 0 else { throw TestFailure("pg_ctl \(arguments.joined(separator: " ")) exited with \(status)") }
    }

    /// Starts `executable` beside the running services, as `service`, on `httpPort`, with the
    /// environment of the tests plus the service's own logins and `overrides`.
    public static func start(
        _ service: String, executable: String, httpPort: Int, overrides: [String: String] = [:]
    ) throws -> (process: Process, log: Pipe) {
        let password = try password(of: service)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(TestEnvironment.binPath)/\(executable)")
        var environment = ProcessInfo.processInfo.environment
        environment["SWITCHBOARD_SERVICE"] = service
        environment["SWITCHBOARD_HTTP_PORT"] = "\(httpPort)"
        environment["SWITCHBOARD_PG_USER"] = service
        environment["SWITCHBOARD_PG_PASSWORD"] = password
        environment["SWITCHBOARD_AMQP_USER"] = service
        environment["SWITCHBOARD_AMQP_PASSWORD"] = password
        for (key, value) in overrides { environment[key] = value }
        process.environment = environment
        let log = Pipe()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        return (process, log)
    }

    /// The status of a GET, or nil when nothing answered.
    public static func status(_ url: String, timeout: TimeInterval = 3) async -> Int? {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = timeout
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return (response as? HTTPURLResponse)?.statusCode
    }
}
