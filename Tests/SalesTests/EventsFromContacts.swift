import Contracts
import Foundation
import Messaging
import SalesService
import ServiceKit
import Storage
import Testing
import TestSupport

/// The contacts service's events, applied by sales' own handlers in a transaction as its consumer
/// applies them: that is how sales' replica of contacts and a converted lead's link come to be,
/// without the contacts service or the broker. Each is built from its golden fixture, so sales is
/// fed the documented shape.
extension SalesChecks {
    /// Applies contacts' event `type` to `aggregate` at `version`, the fixture's data with `changes`.
    func applyFromContacts(_ type: String, aggregate: String, version: Int, causation: String? = nil, _ changes: [String: Any]) async throws {
        var event = try EventFixtures.fixture(type)
        let id = UUID.timeOrdered().uuidString.lowercased()
        event.merge([
            "id": id, "correlation_id": causation ?? id, "causation_id": causation ?? NSNull(), "aggregate_id": aggregate,
            "aggregate_version": version, "occurred_at": EventCoding.timestamp(Date()),
            "data": (event["data"] as? [String: Any] ?? [:]).merging(changes) { $1 },
        ]) { $1 }
        let envelope = try EventEnvelope.decode(Array(try JSONSerialization.data(withJSONObject: event)))
        let handler = try #require(SalesService.definition.handlers(service).first { $0.type == type }, "sales consumes \(type)")
        let (outbox, logger) = (service.outbox, service.logger)
        try await service.client.transaction(logger: logger) { connection in
            try await handler.apply(envelope, EventContext(connection: connection, outbox: outbox, logger: logger))
        }
    }

    /// A contact created in contacts, now in sales' replica; `fields` as the contacts API names
    /// them (any not given are the fixture's, without an account).
    func contact(_ fields: [String: Any]) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let document: [String: Any] = ["id": id, "version": 1, "account_id": NSNull(), "company": NSNull()]
        try await applyFromContacts(ContactEvents.contactCreated, aggregate: id, version: 1, document.merging(fields) { $1 })
        return id
    }

    func contactDeleted(_ id: String) async throws {
        try await applyFromContacts(ContactEvents.contactDeleted, aggregate: id, version: 2, ["id": id, "version": 2, "account_id": NSNull()])
    }

    func contactsMerged(into survivor: String, _ merged: [String]) async throws {
        let fixture = try EventFixtures.fixture(ContactEvents.contactMerged)["data"] as? [String: Any] ?? [:]
        let document = (fixture["survivor"] as? [String: Any] ?? [:]).merging(["id": survivor, "version": 2, "account_id": NSNull()]) { $1 }
        try await applyFromContacts(ContactEvents.contactMerged, aggregate: survivor, version: 2, ["survivor": document, "merged_ids": merged])
    }
}
