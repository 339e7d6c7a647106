import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// The customer overview when the sales service is down or hangs: a second gateway beside the
/// running one, whose sales service is a port nobody listens on, or one that accepts and never
/// answers. The overview still answers 200, with what contacts gave and `sources` naming sales.
@Suite("Customer overview without sales", .serialized, .timeLimit(.minutes(2)))
struct OverviewDegradedTests {
    /// A TCP port that accepts connections (the kernel completes them) and never answers.
    final class SilentPort {
        let descriptor: Int32
        let port: Int

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(descriptor, pointer, length) == 0 && listen(descriptor, 16) == 0 && getsockname(descriptor, pointer, &length) == 0
                }
            }
            guard bound else {
                close(descriptor)
                throw TestFailure("cannot open a listening socket")
            }
            self.descriptor = descriptor
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        private var isOpen = true

        /// Stops listening: the port is free again, as a stopped service's is.
        func stop() {
            if isOpen { close(descriptor) }
            isOpen = false
        }

        deinit { stop() }
    }

    /// A gateway on `port` whose sales service is at `salesURL`; stopped when `body` returns.
    func withGateway(port: Int, salesURL: String, _ body: (APIClient) async throws -> Void) async throws {
        let (process, _) = try LocalStack.start(
            "gateway", executable: "gateway", httpPort: port,
            overrides: ["SWITCHBOARD_SALES_URL": salesURL, "SWITCHBOARD_OVERVIEW_TIMEOUT_MS": "500"]
        )
        defer { process.terminate() }
        let ready = try await TestEnvironment.eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            (try? await ServiceProcessTests.get("http://127.0.0.1:\(port)/health/ready").status) == 200
        }
        try #require(ready, "the second gateway became ready")
        var client = APIClient()
        client.baseURL = "http://127.0.0.1:\(port)"
        try await body(client)
    }

    func expectPartial(_ client: APIClient, contactId: String, salesStatus: String) async throws {
        let start = ContinuousClock.now
        let answer = try await client.get("/api/v1/customers/\(contactId)/overview")
        let elapsed = ContinuousClock.now - start
        #expect(answer.status == 200, "\(answer.text)")
        #expect((answer.json["contact"] as? [String: Any])?["id"] as? String == contactId, "the contacts part is there")
        #expect(answer.json["deals"] is NSNull, "the sales part is missing")
        let sources = answer.json["sources"] as? [String: [String: String]] ?? [:]
        #expect(sources["contacts"]?["status"] == "ok")
        #expect(sources["sales"]?["status"] == salesStatus, "\(sources)")
        #expect(sources["sales"]?["detail"]?.contains("sales") == true)
        #expect(elapsed < .seconds(5), "it answers within its deadline, not the client's")
    }

    @Test("sales stopped: nothing listens on its port; the overview answers with contacts' part and sources.sales unavailable")
    func salesDown() async throws {
        let closed = try SilentPort()
        let url = "http://127.0.0.1:\(closed.port)"
        closed.stop()
        let contactId = try await APIClient().newContact("Partial")
        try await withGateway(port: 18180, salesURL: url) { client in
            try await expectPartial(client, contactId: contactId, salesStatus: "unavailable")
        }
    }

    @Test("sales hangs: it accepts and never answers; the overview answers after its deadline with sources.sales timeout")
    func salesHangs() async throws {
        let silent = try SilentPort()
        let contactId = try await APIClient().newContact("Partial")
        try await withGateway(port: 18182, salesURL: "http://127.0.0.1:\(silent.port)") { client in
            try await expectPartial(client, contactId: contactId, salesStatus: "timeout")
        }
        withExtendedLifetime(silent) {}
    }
}
