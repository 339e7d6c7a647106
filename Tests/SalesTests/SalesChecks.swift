import Foundation
import PostgresNIO
import SalesService
import ServiceKit
import Storage
import Testing
import TestSupport

/// The sales service driven in-process on a schema of each test's own (`InProcessService`): no
/// gateway, no broker, no other service. The checks of each suite are extensions of this one type,
/// so that what they share (deals, the outbox, contacts' events) is written once.
struct SalesChecks {
    let api: APIClient
    let service: ServiceDependencies

    static func run(_ body: @Sendable (SalesChecks) async throws -> Void) async throws {
        try await InProcessService.run(SalesService.definition) { api, service in try await body(SalesChecks(api: api, service: service)) }
    }

    /// A user in sales' copy of the staff (owners are users); their id.
    func staffUser(_ name: String = "Test Owner", email: String? = nil) async throws -> String {
        try await StaffFixture.user(SalesService.definition, service, name: name, email: email)
    }

    static func money(_ amount: String, _ currency: String) -> [String: String] { ["amount": amount, "currency": currency] }

    static let defaultPipeline = "00000000-0000-7000-8000-000000000001"

    /// A pipeline of the test's own with the given stages (name, probability).
    func pipeline(_ stages: [(String, Int)]) async throws -> [String: Any] {
        let created = try await api.post("/api/v1/pipelines", [
            "name": TestEnvironment.uniqueName("pipe"), "stages": stages.map { ["name": $0.0, "probability": $0.1] },
        ])
        try #require(created.status == 201, "\(created.text)")
        return created.json
    }

    static func stageIds(_ pipeline: [String: Any]) -> [String] {
        (pipeline["stages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    func deal(_ fields: [String: Any]) async throws -> [String: Any] {
        let created = try await api.post("/api/v1/deals", ["title": "Deal", "amount": ["amount": "1000", "currency": "EUR"]].merging(fields) { $1 })
        try #require(created.status == 201, "\(created.text)")
        return created.json
    }

    func act(_ deal: [String: Any], _ action: String, _ body: [String: Any] = [:]) async throws -> APIClient.Answer {
        try await api.act(on: "/api/v1/deals", deal, action, body)
    }

    /// An event the service wrote for the relay to publish.
    struct OutboxEvent {
        /// The row's own type: the routing key the relay publishes the event under.
        var routingKey: String
        var envelope: [String: Any]
        var type: String? { envelope["type"] as? String }
        var data: [String: Any] { envelope["data"] as? [String: Any] ?? [:] }
    }

    /// The events of one aggregate in the order they were written, so in the order published.
    func outbox(of aggregate: String) async throws -> [OutboxEvent] {
        let rows = try await service.client.query(
            PostgresQuery(unsafeSQL: """
                SELECT type, payload::text FROM \(service.schema.table("outbox")) WHERE aggregate_id = '\(aggregate)' ORDER BY seq
                """),
            logger: TestEnvironment.logger
        )
        var events: [OutboxEvent] = []
        for try await (type, payload) in rows.decode((String, String).self) {
            let envelope = try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] ?? [:]
            events.append(OutboxEvent(routingKey: type, envelope: envelope))
        }
        return events
    }
}
