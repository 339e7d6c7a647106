import AMQP
import Contracts
import Foundation
import Messaging
import Testing
import TestSupport

/// Leads through the gateway: worked to qualified, converted into a deal and a contact that the
/// contacts service matches or creates from sales' event.
@Suite("Leads through the gateway", .timeLimit(.minutes(2)))
struct LeadsAPITests {
    let api = APIClient()

    func lead(_ fields: [String: Any]) async throws -> [String: Any] {
        let created = try await api.post("/api/v1/leads", fields)
        try #require(created.status == 201, "\(created.text)")
        return created.json
    }

    func send(_ lead: [String: Any], _ action: String, _ body: [String: Any] = [:]) async throws -> APIClient.Answer {
        try await api.send("POST", "/api/v1/leads/\(lead["id"]!)/\(action)", json: body, headers: ["If-Match": "\"\(lead["version"]!)\""])
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

    struct Identity: Decodable {
        var id: UUID
        var version: Int64
    }

    @Test("every lead fixture is an envelope from sales whose data is the lead at its version; the contacts answer names the lead")
    func fixtures() throws {
        for type in SalesEvents.leadTypes {
            let envelope = try EventEnvelope.decode(Array(try Data(contentsOf: EventFixtures.url(type))))
            #expect(envelope.type == type)
            #expect(envelope.producer == "sales")
            let lead = try envelope.payload(as: Identity.self)
            #expect(lead.id == envelope.aggregateId)
            #expect(lead.version == envelope.aggregateVersion)
        }
        let converted = try EventEnvelope.decode(Array(try Data(contentsOf: EventFixtures.url(SalesEvents.leadConverted))))
        #expect(try converted.payload(as: ConvertedLead.self).dealId != nil)
        let answer = try EventEnvelope.decode(Array(try Data(contentsOf: EventFixtures.url(ContactEvents.contactLeadLinked))))
        #expect(answer.producer == "contacts")
        #expect(answer.causationId != nil, "it names the conversion it answers")
        #expect(try answer.payload(as: ContactLeadLink.self).contactId == answer.aggregateId)
    }

    @Test("a qualified lead converts into a deal, a new contact and an account, all linked; converting again converts once")
    func convertNew() async throws {
        let queue = TestEnvironment.uniqueName("lead-outsider")
        let topology = Topology(
            exchanges: [], queues: [.init(name: queue)],
            bindings: [
                .init(queue: queue, exchange: CRMTopology.eventsExchange, routingKey: "sales.lead.#"),
                .init(queue: queue, exchange: CRMTopology.eventsExchange, routingKey: ContactEvents.contactLeadLinked),
            ]
        )
        try await AMQPOneShot.run(TestEnvironment.broker()) { try $0.declare(topology) }
        let email = "\(TestEnvironment.uniqueName("lead"))@example.com"
        let company = TestEnvironment.uniqueName("Lead Works")
        var lead = try await lead([
            "first_name": "Lena", "last_name": "Lead", "company": company, "email": email.uppercased(), "phone": "+49 30 \(Int.random(in: 10_000_000...99_999_999))",
            "source": "exhibition", "owner": "mia",
        ])
        #expect(lead["status"] as? String == "new")
        #expect(lead["email"] as? String == email, "kept lower-case")
        let contacted = try await api.send("PATCH", "/api/v1/leads/\(lead["id"]!)", json: ["status": "contacted", "notes": "met at the fair", "version": 1])
        #expect(contacted.status == 200, "\(contacted.text)")
        lead = contacted.json
        let early = try await send(lead, "convert", ["deal": ["amount": ["amount": "5000", "currency": "EUR"]]])
        #expect(early.status == 409, "only a qualified lead converts")
        let qualified = try await send(lead, "qualify")
        #expect(qualified.status == 200, "\(qualified.text)")
        lead = qualified.json
        #expect(lead["status"] as? String == "qualified")

        let noAmount = try await send(lead, "convert", ["deal": ["title": "No amount"]])
        #expect(noAmount.status == 422)
        #expect((noAmount.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "deal.amount", "\(noAmount.text)")

        let converted = try await send(lead, "convert", ["create_account": true, "deal": ["amount": ["amount": "5000", "currency": "EUR"]]])
        #expect(converted.status == 201, "\(converted.text)")
        #expect(converted.json["status"] as? String == "converted")
        let dealId = try #require(converted.json["deal_id"] as? String)
        let again = try await api.send("POST", "/api/v1/leads/\(lead["id"]!)/convert", json: ["deal": ["amount": ["amount": "1", "currency": "EUR"]]])
        #expect(again.status == 200, "converting again answers the conversion there is: \(again.text)")
        #expect(again.json["deal_id"] as? String == dealId)

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
        #expect(deal["lead_id"] as? String == lead["id"] as? String)
        #expect(deal["title"] as? String == company, "the deal is named after the company")
        #expect(deal["owner"] as? String == "mia")
        let byContact = try await api.get("/api/v1/deals?contact_id=\(contactId)")
        #expect(byContact.items.count == 1, "one conversion, one deal")
        #expect(try await api.send("PATCH", "/api/v1/leads/\(lead["id"]!)", json: ["notes": "x", "version": done["version"]!]).status == 409)

        var events: [[String: Any]] = []
        let complete = try await TestEnvironment.eventually(timeout: .seconds(15)) {
            for delivery in try await EventFixtures.drain(queue) {
                let event = try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any] ?? [:]
                let data = event["data"] as? [String: Any] ?? [:]
                if event["aggregate_id"] as? String == lead["id"] as? String || data["lead_id"] as? String == lead["id"] as? String {
                    events.append(event)
                }
            }
            return events.count >= 6
        }
        try await AMQPOneShot.run(TestEnvironment.broker()) { try $0.deleteQueue(queue) }
        #expect(complete, "got \(events.map { $0["type"] as? String ?? "?" })")
        let types = events.compactMap { $0["type"] as? String }
        #expect(Array(types.prefix(4)) == [SalesEvents.leadCreated, SalesEvents.leadUpdated, SalesEvents.leadQualified, SalesEvents.leadConverted])
        #expect(Set(types.dropFirst(4)) == [ContactEvents.contactLeadLinked, SalesEvents.leadUpdated], "the answer, then the link")
        for event in events {
            let type = try #require(event["type"] as? String)
            #expect(EventFixtures.shape(event) == EventFixtures.shape(try EventFixtures.fixture(type)), "\(type) has the fixture's members")
        }
        let answer = try #require(events.first { $0["type"] as? String == ContactEvents.contactLeadLinked }?["data"] as? [String: Any])
        #expect(answer["contact_id"] as? String == contactId, "ids in lower case, as the API writes them")
        #expect(answer["contact_created"] as? Bool == true)
    }

    @Test("a lead whose e-mail a contact has already converts to that contact, and no other is made")
    func convertMatching() async throws {
        let email = "\(TestEnvironment.uniqueName("known"))@example.com"
        let existing = try await api.post("/api/v1/contacts", ["last_name": "Known", "emails": [["address": email]]])
        let existingId = try #require(existing.json["id"] as? String)
        var lead = try await lead(["last_name": "Known again", "email": email, "phone": "+1 555 \(Int.random(in: 1_000_000...9_999_999))"])
        lead = try await send(lead, "qualify").json
        let converted = try await send(lead, "convert", ["deal": ["title": "Repeat business", "amount": ["amount": "10", "currency": "USD"]]])
        #expect(converted.status == 201, "\(converted.text)")
        let done = try await linked(lead["id"] as! String)
        #expect(done["contact_id"] as? String == existingId)
        #expect(done["account_id"] is NSNull, "no account was asked for, and the contact has none")
        let found = try await api.get("/api/v1/contacts?q=\(email)")
        #expect(found.items.compactMap { $0["id"] as? String } == [existingId])
    }

    @Test("disqualifying needs a reason; a disqualified lead does not convert until it is worked again")
    func disqualify() async throws {
        var lead = try await lead(["company": TestEnvironment.uniqueName("Maybe Co"), "source": "cold_call"])
        #expect(try await send(lead, "disqualify").status == 422)
        let out = try await send(lead, "disqualify", ["reason": "no budget this year"])
        #expect(out.status == 200, "\(out.text)")
        lead = out.json
        #expect(lead["disqualify_reason"] as? String == "no budget this year")
        #expect(try await send(lead, "qualify").status == 409)
        #expect(try await send(lead, "convert", ["deal": ["amount": ["amount": "1", "currency": "EUR"]]]).status == 409)
        let back = try await api.send("PATCH", "/api/v1/leads/\(lead["id"]!)", json: ["status": "new"], headers: ["If-Match": "\"\(lead["version"]!)\""])
        #expect(back.status == 200, "\(back.text)")
        #expect(back.json["status"] as? String == "new")
        #expect(back.json["disqualify_reason"] is NSNull)
        let skip = try await api.send("PATCH", "/api/v1/leads/\(lead["id"]!)", json: ["status": "converted", "version": back.json["version"]!])
        #expect(skip.status == 422)
        let invalid = try await api.post("/api/v1/leads", ["first_name": "Only", "email": "not-an-address", "source": "telepathy"])
        #expect(invalid.status == 422)
        #expect(invalid.text.contains("source"), "\(invalid.text)")
        let noName = try await api.post("/api/v1/leads", ["first_name": "Only", "email": "not-an-address"])
        let fields = Set((noName.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
        #expect(fields == ["last_name", "email"])
        #expect(try await api.get("/api/v1/leads?status=disqualified&limit=5").status == 200)
    }
}
