import AMQP
import Contracts
import Foundation
import Messaging
import Testing
import TestSupport

/// The events the contacts service publishes, as an outside consumer binding its own queue to
/// `crm.events` sees them, held against the golden fixtures (the documented contract).
@Suite("Contacts events on the bus", .timeLimit(.minutes(2)))
struct ContactEventsTests {
    let api = APIClient()

    static let types = [
        ContactEvents.contactCreated, ContactEvents.contactUpdated, ContactEvents.contactMerged, ContactEvents.contactDeleted,
        ContactEvents.accountCreated, ContactEvents.accountUpdated, ContactEvents.accountDeleted, ContactEvents.interactionLogged,
    ]

    @Test("created, updated, deleted, merged, account and interaction events carry the documented envelope and the full state")
    func liveEventsMatchFixtures() async throws {
        let queue = TestEnvironment.uniqueName("outsider")
        let topology = Topology(
            exchanges: [], queues: [.init(name: queue)],
            bindings: [.init(queue: queue, exchange: CRMTopology.eventsExchange, routingKey: "contacts.#")]
        )
        try await AMQPOneShot.run(TestEnvironment.broker()) { try $0.declare(topology) }

        let email = "\(TestEnvironment.uniqueName("ev"))@example.com"
        let account = try await api.post("/api/v1/accounts", ["name": "Event Works"]).json
        let accountId = try #require(account["id"] as? String)
        _ = try await api.send("PATCH", "/api/v1/accounts/\(accountId)", json: ["industry": "events", "version": 1])
        _ = try await api.send("DELETE", "/api/v1/accounts/\(accountId)")
        let created = try await api.post("/api/v1/contacts", ["last_name": "Eventful", "emails": [["address": email]]]).json
        let id = try #require(created["id"] as? String)
        let updated = try await api.send("PATCH", "/api/v1/contacts/\(id)", json: ["position": "Herald", "version": 1]).json
        let other = try await api.post("/api/v1/contacts", ["last_name": "Other", "allow_duplicate": true, "emails": [["address": email]]]).json
        let otherId = try #require(other["id"] as? String)
        _ = try await api.post("/api/v1/contacts/\(id)/interactions", ["channel": "email", "direction": "outbound"])
        _ = try await api.post("/api/v1/contacts/merge", ["survivor_id": id, "merged_ids": [otherId]])
        let survivor = try await api.get("/api/v1/contacts/\(id)").json
        _ = try await api.send("DELETE", "/api/v1/contacts/\(id)")

        var events: [[String: Any]] = []
        let mine: Set<String> = [accountId, id, otherId]
        let complete = try await TestEnvironment.eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            let batch = try await EventFixtures.drain(queue)
            for delivery in batch {
                guard let event = try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any] else { continue }
                let data = event["data"] as? [String: Any] ?? [:]
                let subject = (data["contact_id"] ?? event["aggregate_id"]) as? String ?? ""
                if mine.contains(subject) {
                    #expect(delivery.routingKey == event["type"] as? String)
                    #expect(delivery.properties.messageId == event["id"] as? String)
                    events.append(event)
                }
            }
            return events.count >= 9
        }
        try await AMQPOneShot.run(TestEnvironment.broker()) { try $0.deleteQueue(queue) }
        #expect(complete, "got \(events.map { $0["type"] as? String ?? "?" })")

        let types = events.compactMap { $0["type"] as? String }
        #expect(types == [
            ContactEvents.accountCreated, ContactEvents.accountUpdated, ContactEvents.accountDeleted,
            ContactEvents.contactCreated, ContactEvents.contactUpdated, ContactEvents.contactCreated,
            ContactEvents.interactionLogged, ContactEvents.contactMerged, ContactEvents.contactDeleted,
        ])
        for event in events {
            let type = try #require(event["type"] as? String)
            #expect(EventFixtures.shape(event) == EventFixtures.shape(try EventFixtures.fixture(type)), "\(type) has the fixture's members")
            #expect(event["producer"] as? String == "contacts")
            #expect(event["version"] as? Int == 1)
        }
        let createdEvent = try #require(events.first { $0["type"] as? String == ContactEvents.contactCreated })
        #expect(NSDictionary(dictionary: createdEvent["data"] as? [String: Any] ?? [:]).isEqual(to: created), "the created event carries the state the API answered")
        let updatedEvent = try #require(events.first { $0["type"] as? String == ContactEvents.contactUpdated })
        #expect(NSDictionary(dictionary: updatedEvent["data"] as? [String: Any] ?? [:]).isEqual(to: updated))
        #expect(updatedEvent["aggregate_version"] as? Int == 2)
        let merged = try #require(events.first { $0["type"] as? String == ContactEvents.contactMerged }?["data"] as? [String: Any])
        #expect(merged["merged_ids"] as? [String] == [otherId])
        #expect(NSDictionary(dictionary: merged["survivor"] as? [String: Any] ?? [:]).isEqual(to: survivor))
    }
}

extension ContactEventsTests {
    @Test("deleting a custom field gives each live contact that held a value a new version and an updated event without it")
    func customFieldDeletionIsPublished() async throws {
        let queue = TestEnvironment.uniqueName("outsider")
        let topology = Topology(
            exchanges: [], queues: [.init(name: queue)],
            bindings: [.init(queue: queue, exchange: CRMTopology.eventsExchange, routingKey: ContactEvents.contactUpdated)]
        )
        try await AMQPOneShot.run(TestEnvironment.broker()) { try $0.declare(topology) }
        let name = TestEnvironment.uniqueName("tier")
        let defined = try await api.post("/api/v1/custom-fields", ["entity": "contact", "name": name, "label": "Tier", "type": "string"])
        let field = try #require(defined.json["id"] as? String)
        var holders: [String] = []
        for index in 0..<2 {
            let created = try await api.post("/api/v1/contacts", ["last_name": "Tiered \(index)", "custom_fields": [name: "gold"]])
            holders.append(try #require(created.json["id"] as? String))
        }
        let without = try #require(try await api.post("/api/v1/contacts", ["last_name": "Untiered"]).json["id"] as? String)
        #expect(try await api.send("DELETE", "/api/v1/custom-fields/\(field)").status == 204)

        for id in holders {
            let contact = try await api.get("/api/v1/contacts/\(id)").json
            #expect((contact["custom_fields"] as? [String: Any])?[name] == nil)
            #expect(contact["version"] as? Int == 2)
        }
        #expect(try await api.get("/api/v1/contacts/\(without)").json["version"] as? Int == 1)

        var updated: [String: [String: Any]] = [:]
        let mine = Set(holders + [without])
        let complete = try await TestEnvironment.eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            let batch = try await EventFixtures.drain(queue)
            for delivery in batch {
                guard let event = try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any],
                    let subject = event["aggregate_id"] as? String, mine.contains(subject)
                else { continue }
                updated[subject] = event
            }
            return updated.count >= holders.count
        }
        try await AMQPOneShot.run(TestEnvironment.broker()) { try $0.deleteQueue(queue) }
        #expect(complete, "updated events for \(updated.keys.sorted())")
        #expect(Set(updated.keys) == Set(holders), "only the contacts that held a value")
        for (_, event) in updated {
            #expect(event["aggregate_version"] as? Int == 2)
            let data = try #require(event["data"] as? [String: Any])
            #expect((data["custom_fields"] as? [String: Any])?[name] == nil)
        }
    }
}
