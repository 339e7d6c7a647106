import AMQP
import Contracts
import Foundation
import Messaging
import Testing
import TestSupport

/// A lead's conversion across services: the contacts service matches or creates the contact from
/// sales' event and answers, and sales links it. The leads API itself is tested in-process
/// (SalesTests/LeadsAPITests), the fixtures in ContractsTests.
@Suite("Leads across services", .timeLimit(.minutes(2)))
struct LeadConversionTests {
    let api = APIClient()

    func lead(_ fields: [String: Any]) async throws -> [String: Any] {
        let created = try await api.post("/api/v1/leads", fields)
        try #require(created.status == 201, "\(created.text)")
        return created.json
    }

    /// The lead once the contacts service has answered its conversion.
    func linked(_ id: String) async throws -> [String: Any] {
        var lead: [String: Any] = [:]
        let done = try await TestEnvironment.eventually(timeout: .seconds(15)) {
            lead = try await api.get("/api/v1/leads/\(id)").json
            return lead["contact_id"] is String
        }
        try #require(done, "the contacts service linked a contact to lead \(id): \(lead)")
        return lead
    }

    @Test("a converted lead's new contact and account are made by the contacts service, which answers with their ids in lower case; sales links them to the lead and its deal")
    func convertNew() async throws {
        let queue = TestEnvironment.uniqueName("lead-outsider")
        let topology = Topology(
            exchanges: [], queues: [.init(name: queue)],
            bindings: [.init(queue: queue, exchange: CRMTopology.eventsExchange, routingKey: ContactEvents.contactLeadLinked)]
        )
        try await AMQPOneShot.run(TestEnvironment.broker()) { try $0.declare(topology) }
        let email = "\(TestEnvironment.uniqueName("lead"))@example.com"
        let company = TestEnvironment.uniqueName("Lead Works")
        let mia = try #require(try await api.newStaffUser(name: "Mia")["id"] as? String)
        var lead = try await lead([
            "first_name": "Lena", "last_name": "Lead", "company": company, "email": email, "source": "exhibition", "owner": mia,
        ])
        lead = try await api.act(on: "/api/v1/leads", lead, "qualify").json
        let converted = try await api.act(on: "/api/v1/leads", lead, "convert", ["create_account": true, "deal": ["amount": ["amount": "5000", "currency": "EUR"]]])
        let dealId = try #require(converted.json["deal_id"] as? String, "\(converted.text)")

        let done = try await linked(lead["id"] as! String)
        let contactId = try #require(done["contact_id"] as? String)
        let accountId = try #require(done["account_id"] as? String)
        let contact = try await api.get("/api/v1/contacts/\(contactId)").json
        #expect((contact["emails"] as? [[String: Any]])?.first?["address"] as? String == email)
        #expect(contact["last_name"] as? String == "Lead")
        #expect(contact["lead_source"] as? String == "exhibition")
        #expect(contact["account_id"] as? String == accountId)
        #expect(try await api.get("/api/v1/accounts/\(accountId)").json["name"] as? String == company)

        var deal: [String: Any] = [:]
        let dealLinked = try await TestEnvironment.eventually(timeout: .seconds(15)) {
            deal = try await api.get("/api/v1/deals/\(dealId)").json
            return deal["contact_id"] as? String == contactId
        }
        #expect(dealLinked, "\(deal)")
        #expect(deal["account_id"] as? String == accountId)

        var answer: [String: Any]?
        let answered = try await TestEnvironment.eventually(timeout: .seconds(15)) {
            for delivery in try await EventFixtures.drain(queue) {
                let event = try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any] ?? [:]
                if (event["data"] as? [String: Any])?["lead_id"] as? String == lead["id"] as? String { answer = event }
            }
            return answer != nil
        }
        try await AMQPOneShot.run(TestEnvironment.broker()) { try $0.deleteQueue(queue) }
        try #require(answered, "the contacts service's answer is on the bus")
        let event = answer ?? [:]
        #expect(EventFixtures.shape(event) == EventFixtures.shape(try EventFixtures.fixture(ContactEvents.contactLeadLinked)), "it has the fixture's members")
        let data = event["data"] as? [String: Any] ?? [:]
        #expect(data["contact_id"] as? String == contactId, "ids in lower case, as the API writes them")
        #expect(data["contact_created"] as? Bool == true)
    }

    @Test("a lead whose e-mail a contact has already converts to that contact, and no other is made")
    func convertMatching() async throws {
        let email = "\(TestEnvironment.uniqueName("known"))@example.com"
        let existing = try await api.post("/api/v1/contacts", ["last_name": "Known", "emails": [["address": email]]])
        let existingId = try #require(existing.json["id"] as? String)
        var lead = try await lead(["last_name": "Known again", "email": email, "phone": "+1 555 \(Int.random(in: 1_000_000...9_999_999))"])
        lead = try await api.act(on: "/api/v1/leads", lead, "qualify").json
        let converted = try await api.act(on: "/api/v1/leads", lead, "convert", ["deal": ["title": "Repeat business", "amount": ["amount": "10", "currency": "USD"]]])
        #expect(converted.status == 201, "\(converted.text)")
        let done = try await linked(lead["id"] as! String)
        #expect(done["contact_id"] as? String == existingId)
        #expect(done["account_id"] is NSNull, "no account was asked for, and the contact has none")
        let found = try await api.get("/api/v1/contacts?q=\(email)")
        #expect(found.items.compactMap { $0["id"] as? String } == [existingId])
    }
}
