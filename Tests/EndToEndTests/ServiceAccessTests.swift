import Foundation
import Testing
import TestSupport

/// Behind the gateway, a service's port is no way around its roles: without the gateway's token
/// it answers its health and metrics, and 401 to everything else.
@Suite("Services answer only the gateway", .timeLimit(.minutes(2)))
struct ServiceAccessTests {
    /// A route of each service that answers the gateway (a 404 for a service with no routes of its
    /// own yet: still not a 401).
    static let routes: [(service: String, method: String, path: String)] = [
        ("contacts", "GET", "/api/v1/contacts?limit=1"), ("contacts", "POST", "/api/v1/custom-fields"),
        ("sales", "GET", "/api/v1/deals?limit=1"), ("sales", "PATCH", "/api/v1/lost-reasons/price"),
        ("support", "GET", "/api/v1/tickets"), ("marketing", "GET", "/api/v1/campaigns"), ("erp_bridge", "GET", "/api/v1/orders"),
    ]

    @Test("a call without the gateway's token, or with a wrong one, is 401; with it, the route answers")
    func tokenRequired() async throws {
        try #require(!LocalStack.gatewayToken.isEmpty, "SWITCHBOARD_GATEWAY_TOKEN is set for the tests")
        for route in Self.routes {
            let body = route.method == "GET" ? nil : Data("{}".utf8)
            let without = try await LocalStack.call(route.service, route.method, route.path, body: body, token: nil)
            #expect(without.status == 401, "\(route): \(without.text)")
            #expect(without.header("Content-Type") == "application/problem+json")
            let wrong = try await LocalStack.call(route.service, route.method, route.path, body: body, token: String(repeating: "0", count: 64))
            #expect(wrong.status == 401, "\(route) with a wrong token")
            let with = try await LocalStack.call(route.service, route.method, route.path, body: body)
            #expect(with.status != 401, "\(route) with the token: \(with.status) \(with.text)")
        }
    }

    @Test("health and metrics answer without a token")
    func healthIsOpen() async throws {
        for service in LocalStack.services {
            for path in ["/health/live", "/health/ready", "/metrics"] {
                let answer = try await LocalStack.call(service.name, "GET", path, token: nil)
                #expect(answer.status == 200, "\(service.name) \(path): \(answer.status)")
            }
        }
    }

    @Test("the local PostgreSQL: its socket refuses every OS user but its owner, and every role needs its password over TCP")
    func localDatabase() throws {
        let socket = try #require(ProcessInfo.processInfo.environment["SWITCHBOARD_PG_SOCKET_DIR"], "local.sh exports the socket directory")
        let port = ProcessInfo.processInfo.environment["SWITCHBOARD_PG_PORT"] ?? "5433"
        func psql(as osUser: String, _ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", osUser, "--", "/usr/bin/psql", "-X", "-w", "-p", port, "-d", "switchboard", "-c", "SELECT 1"] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.environment = ["PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"]
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        #expect(try psql(as: "nobody", ["-h", socket, "-U", "postgres"]) != 0, "nobody is refused as the superuser on the socket")
        #expect(try psql(as: "nobody", ["-h", socket, "-U", "contacts"]) != 0, "nobody is refused as a service on the socket")
        #expect(try psql(as: "postgres", ["-h", socket, "-U", "postgres"]) == 0, "the cluster's owner gets in")
        #expect(try psql(as: "nobody", ["-h", "127.0.0.1", "-U", "contacts"]) != 0, "no password, no login over TCP")
    }
}
