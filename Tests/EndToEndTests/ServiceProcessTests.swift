import AMQP
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Messaging
import Testing
import TestSupport

/// Against the executables `compose/local.sh test` started (and a few it did not).
@Suite("Service processes", .serialized, .timeLimit(.minutes(3)))
struct ServiceProcessTests {
    static func get(_ url: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    /// Ready, or what the last answer said. Another test may have just restarted the broker: the
    /// services must then reconnect by themselves, within their back-off (at most 5 s a try).
    static func waitUntilReady(_ base: String) async throws -> (ready: Bool, report: String) {
        var report = ""
        let ready = try await TestEnvironment.eventually(timeout: .seconds(30), every: .milliseconds(250)) {
            let answer = try await Self.get("\(base)/health/ready")
            report = answer.body
            return answer.status == 200
        }
        return (ready, report)
    }

    @Test("every service is live and ready and serves Prometheus metrics")
    func everyServiceIsReady() async throws {
        for service in LocalStack.services {
            let base = LocalStack.baseURL(of: service.name)
            #expect(try await Self.get("\(base)/health/live").status == 200, "\(service.name) live")
            let (ready, report) = try await Self.waitUntilReady(base)
            #expect(ready, "\(service.name) ready: \(report)")
            let metrics = try await Self.get("\(base)/metrics")
            #expect(metrics.body.contains("switchboard_outbox_lag_seconds{service=\"\(service.name)\"}"), "\(service.name) metrics")
            #expect(metrics.body.contains("switchboard_http_requests_total"), "\(service.name) counts requests")
        }
    }

    @Test("a service stops cleanly on SIGTERM")
    func gracefulShutdown() async throws {
        let (process, log) = try LocalStack.start("contacts", executable: "contacts", httpPort: 18181)
        let ready = try await TestEnvironment.eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            (try? await Self.get("http://127.0.0.1:18181/health/ready").status) == 200
        }
        #expect(ready, "a second contacts replica beside the running one becomes ready")
        process.terminate()  // SIGTERM
        let exited = try await TestEnvironment.eventually(timeout: .seconds(20)) { !process.isRunning }
        #expect(exited)
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0, "\(String(decoding: log.fileHandleForReading.availableData, as: UTF8.self))")
    }

    @Test("switchboard migrate reports every service up to date")
    func migrateCommand() throws {
        let output = try Self.switchboard(["migrate"])
        for service in LocalStack.services {
            #expect(output.contains("\(service.name): up to date"), "\(output)")
        }
    }

    @Test("dead letters: listed without removal, replayed by id to the service, which dead-letters an event it has no handler for")
    func deadLetterReplay() async throws {
        let contacts = try await Self.waitUntilReady(LocalStack.baseURL(of: "contacts"))
        try #require(contacts.ready, "contacts must consume for the replay to come back: \(contacts.report)")
        let id = UUID().uuidString.lowercased()
        let envelope = EventEnvelope(
            id: UUID(uuidString: id)!, type: "test.nobody.handles", producer: "test", aggregateId: UUID(),
            aggregateVersion: 1, data: .object([:])
        )
        let publisher = AMQPPublisher(configuration: TestEnvironment.broker(), logger: TestEnvironment.logger)
        try await publisher.publish(
            OutgoingMessage(
                exchange: CRMTopology.deadLetterExchange, routingKey: "contacts", body: Array(try envelope.encoded()),
                properties: MessageProperties(
                    contentType: "application/json", messageId: id, type: envelope.type,
                    headers: ["x-error": "planted by a test", "x-failed-by": "contacts"]
                )
            )
        )
        await publisher.close()

        let listed = try Self.switchboard(["dead-letters", "list", "contacts", "--limit", "10000"])
        #expect(listed.contains(id))
        #expect(listed.contains("planted by a test"))
        #expect(try Self.switchboard(["dead-letters", "list", "contacts", "--limit", "10000"]).contains(id), "listing removes nothing")

        let replayed = try Self.switchboard(["dead-letters", "replay", "contacts", "--id", id])
        #expect(replayed.contains("replayed 1 message(s) from contacts.dead to contacts.events"))

        // The running contacts service consumes it, has no handler for the type, and dead-letters it again.
        let back = try await TestEnvironment.eventually(timeout: .seconds(20), every: .milliseconds(250)) {
            let listing = try Self.switchboard(["dead-letters", "list", "contacts", "--limit", "10000"])
            return listing.contains(id) && listing.contains("no handler for event type 'test.nobody.handles'")
        }
        #expect(back)
    }

    static func switchboard(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(TestEnvironment.binPath)/switchboard")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("switchboard \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}
