import Contracts
import Foundation
import Testing
import TestSupport

/// Leads, in-process: worked to qualified, converted into a deal, and linked to the contact the
/// contacts service answers with (its answer applied here as sales' consumer applies it). How the
/// contacts service finds or makes that contact is in GatewayTests/LeadsAPITests.
@Suite("Leads", .timeLimit(.minutes(2)))
struct LeadsAPITests {
    @Test("a qualified lead converts into a deal; converting again converts once; contacts' answer links the contact and account to the lead and its deal")
    func convert() async throws {
        try await SalesChecks.run { try await $0.convert() }
    }

    @Test("leads list oldest first, or newest first when asked, across pages")
    func order() async throws {
        try await SalesChecks.run { try await $0.order() }
    }

    @Test("disqualifying needs a reason; a disqualified lead does not convert until it is worked again")
    func disqualify() async throws {
        try await SalesChecks.run { try await $0.disqualify() }
    }
}

extension SalesChecks {
    func lead(_ fields: [String: Any]) async throws -> [String: Any] {
        let created = try await api.post("/api/v1/leads", fields)
        try #require(created.status == 201, "\(created.text)")
        return created.json
    }

    func convert() async throws {
        let email = "\(TestEnvironment.uniqueName("lead"))@example.com"
        let company = TestEnvironment.uniqueName("Lead Works")
        let mia = try await staffUser("Mia")
        var lead = try await lead([
            "first_name": "Lena", "last_name": "Lead", "company": company, "email": email.uppercased(), "phone": "+49 30 \(Int.random(in: 10_000_000...99_999_999))",
            "source": "exhibition", "owner": mia,
        ])
        let leadId = try #require(lead["id"] as? String)
        #expect(lead["status"] as? String == "new")
        #expect(lead["email"] as? String == email, "kept lower-case")
        let contacted = try await api.send("PATCH", "/api/v1/leads/\(leadId)", json: ["status": "contacted", "notes": "met at the fair", "version": 1])
        #expect(contacted.status == 200, "\(contacted.text)")
        lead = contacted.json
        let early = try await api.act(on: "/api/v1/leads", lead, "convert", ["deal": ["amount": ["amount": "5000", "currency": "EUR"]]])
        #expect(early.status == 409, "only a qualified lead converts")
        let qualified = try await api.act(on: "/api/v1/leads", lead, "qualify")
        #expect(qualified.status == 200, "\(qualified.text)")
        lead = qualified.json
        #expect(lead["status"] as? String == "qualified")

        let noAmount = try await api.act(on: "/api/v1/leads", lead, "convert", ["deal": ["title": "No amount"]])
        #expect(noAmount.status == 422)
        #expect((noAmount.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "deal.amount", "\(noAmount.text)")

        let converted = try await api.act(on: "/api/v1/leads", lead, "convert", ["create_account": true, "deal": ["amount": ["amount": "5000", "currency": "EUR"]]])
        #expect(converted.status == 201, "\(converted.text)")
        #expect(converted.json["status"] as? String == "converted")
        let dealId = try #require(converted.json["deal_id"] as? String)
        let again = try await api.send("POST", "/api/v1/leads/\(leadId)/convert", json: ["deal": ["amount": ["amount": "1", "currency": "EUR"]]])
        #expect(again.status == 200, "converting again answers the conversion there is: \(again.text)")
        #expect(again.json["deal_id"] as? String == dealId)

        let conversion = try #require(try await outbox(of: leadId).first { $0.type == SalesEvents.leadConverted })
        let (contactId, accountId) = (UUID().uuidString.lowercased(), UUID().uuidString.lowercased())
        try await applyFromContacts(
            ContactEvents.contactLeadLinked, aggregate: contactId, version: 1, causation: conversion.envelope["id"] as? String,
            ["lead_id": leadId, "deal_id": dealId, "contact_id": contactId, "account_id": accountId, "contact_created": true]
        )
        let done = try await api.get("/api/v1/leads/\(leadId)").json
        #expect(done["contact_id"] as? String == contactId)
        #expect(done["account_id"] as? String == accountId)

        let deal = try await api.get("/api/v1/deals/\(dealId)").json
        #expect(deal["contact_id"] as? String == contactId, "\(deal)")
        #expect(deal["account_id"] as? String == accountId)
        #expect(deal["lead_id"] as? String == leadId)
        #expect(deal["title"] as? String == company, "the deal is named after the company")
        #expect(deal["owner"] as? String == mia, "the lead's owner owns its deal")
        let byContact = try await api.get("/api/v1/deals?contact_id=\(contactId)")
        #expect(byContact.items.count == 1, "one conversion, one deal")
        #expect(try await api.send("PATCH", "/api/v1/leads/\(leadId)", json: ["notes": "x", "version": done["version"]!]).status == 409)

        let rows = try await outbox(of: leadId)
        for row in rows { #expect(row.routingKey == row.type) }
        #expect(rows.compactMap(\.type) == [
            SalesEvents.leadCreated, SalesEvents.leadUpdated, SalesEvents.leadQualified, SalesEvents.leadConverted, SalesEvents.leadUpdated,
        ], "the last, the link")
        for row in rows {
            let type = try #require(row.type)
            #expect(EventFixtures.shape(row.envelope) == EventFixtures.shape(try EventFixtures.fixture(type)), "\(type) has the fixture's members")
        }
    }

    func disqualify() async throws {
        var lead = try await lead(["company": TestEnvironment.uniqueName("Maybe Co"), "source": "cold_call"])
        #expect(try await api.act(on: "/api/v1/leads", lead, "disqualify").status == 422)
        let out = try await api.act(on: "/api/v1/leads", lead, "disqualify", ["reason": "no budget this year"])
        #expect(out.status == 200, "\(out.text)")
        lead = out.json
        #expect(lead["disqualify_reason"] as? String == "no budget this year")
        #expect(try await api.act(on: "/api/v1/leads", lead, "qualify").status == 409)
        #expect(try await api.act(on: "/api/v1/leads", lead, "convert", ["deal": ["amount": ["amount": "1", "currency": "EUR"]]]).status == 409)
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

    /// Newest first, page after page, is the reverse of oldest first.
    func order() async throws {
        let owner = try await staffUser()
        var made: [String] = []
        for index in 0..<5 { made.append(try #require(try await lead(["last_name": "Order \(index)", "owner": owner])["id"] as? String)) }
        var newest: [String] = []
        var cursor: String?
        repeat {
            let page = try await api.get("/api/v1/leads?owner=\(owner)&order=newest&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
            newest += page.items.compactMap { $0["id"] as? String }
            cursor = page.json["next_cursor"] as? String
        } while cursor != nil
        let oldest = try await api.get("/api/v1/leads?owner=\(owner)").items.compactMap { $0["id"] as? String }
        #expect(Set(oldest) == Set(made) && oldest.count == made.count)
        #expect(newest == oldest.reversed())

        // Several statuses at once, comma-separated: the work still to do without the settled ones.
        let dropped = try await api.send("POST", "/api/v1/leads/\(made[0])/disqualify", json: ["reason": "no budget", "version": 1])
        #expect(dropped.status == 200, "\(dropped.text)")
        let open = try await api.get("/api/v1/leads?owner=\(owner)&status=new,contacted,qualified").items.compactMap { $0["id"] as? String }
        #expect(Set(open) == Set(made.dropFirst()), "\(open)")
        let bad = try await api.get("/api/v1/leads?status=new,won")
        #expect(bad.status == 400 && bad.text.contains("won"), "\(bad.text)")
        #expect(try await api.get("/api/v1/leads?order=sideways").status == 400)
    }
}
