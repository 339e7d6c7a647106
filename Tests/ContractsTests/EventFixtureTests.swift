import ContactsService
import Contracts
import Foundation
import Messaging
import Testing
import TestSupport

/// Each golden fixture is an envelope from its producer whose data is its aggregate at the
/// envelope's version, and what its consumers decode it as reads it (EventContractTests holds
/// the same fixtures to the AsyncAPI schemas).
@Suite("Golden event fixtures")
struct EventFixtureTests {
    struct Identity: Decodable {
        var id: UUID
        var version: Int64
    }

    struct FixtureDeal: Decodable {
        var id: UUID
        var version: Int64
        var amount: Money
    }

    struct FixtureQuote: Decodable {
        var id: UUID
        var version: Int64
        var number: String
        var total: Money
    }

    static func envelope(_ type: String, from producer: String) throws -> EventEnvelope {
        let envelope = try EventEnvelope.decode(Array(try Data(contentsOf: EventFixtures.url(type))))
        #expect(envelope.type == type)
        #expect(envelope.producer == producer, "\(type)")
        return envelope
    }

    /// The data is the aggregate (decoded as `T`) at the envelope's version.
    static func aggregate<T: Decodable>(_ type: String, from producer: String, as _: T.Type, id: KeyPath<T, UUID>, version: KeyPath<T, Int64>) throws -> T {
        let envelope = try envelope(type, from: producer)
        let value = try envelope.payload(as: T.self)
        #expect(value[keyPath: id] == envelope.aggregateId, "\(type)")
        #expect(value[keyPath: version] == envelope.aggregateVersion, "\(type)")
        return value
    }

    @Test("every identity fixture decodes as an envelope whose data a consumer's StaffUser (or the team's identity) reads")
    func identity() throws {
        for type in IdentityEvents.userTypes {
            _ = try Self.aggregate(type, from: IdentityEvents.producer, as: StaffUser.self, id: \.id, version: \.version)
        }
        for type in IdentityEvents.teamTypes {
            _ = try Self.aggregate(type, from: IdentityEvents.producer, as: Identity.self, id: \.id, version: \.version)
        }
        let deactivated = try Self.envelope(IdentityEvents.userDeactivated, from: IdentityEvents.producer).payload(as: StaffUser.self)
        #expect(!deactivated.active)
    }

    @Test("every contacts fixture decodes as an envelope whose data the contacts model reads")
    func contacts() throws {
        for type in ContactEvents.published where ![ContactEvents.contactLeadLinked, ContactEvents.customerERPLinked].contains(type) {
            let envelope = try Self.envelope(type, from: "contacts")
            if type.hasPrefix("contacts.contact.") && type != ContactEvents.contactMerged {
                let contact = try envelope.payload(as: Contact.self)
                #expect(contact.id == envelope.aggregateId)
                #expect(contact.version == envelope.aggregateVersion)
            }
        }
    }

    @Test("every ERP bridge fixture is the order at its version, or the link and request its consumers read")
    func erpBridge() throws {
        for type in ERPEvents.orderTypes {
            _ = try Self.aggregate(type, from: ERPEvents.producer, as: Identity.self, id: \.id, version: \.version)
        }
        let request = try Self.envelope(ERPEvents.prospectRequested, from: ERPEvents.producer).payload(as: ProspectRequest.self)
        let answer = try Self.envelope(ContactEvents.customerERPLinked, from: "contacts").payload(as: ERPCustomerLink.self)
        #expect(answer.requestedId != nil && answer.customerId != nil)
        let link = try Self.envelope(ERPEvents.customerLinked, from: ERPEvents.producer)
        #expect(try link.payload(as: ERPCustomerLink.self).customerId == link.aggregateId)
        #expect(!request.erpId.isEmpty)
    }

    @Test("every deal fixture is the deal at the event's version")
    func deals() throws {
        for type in SalesEvents.dealTypes {
            #expect(try Self.aggregate(type, from: "sales", as: FixtureDeal.self, id: \.id, version: \.version).amount.currency == "GBP")
        }
    }

    @Test("every lead fixture is the lead at its version; the contacts answer names the lead")
    func leads() throws {
        for type in SalesEvents.leadTypes {
            _ = try Self.aggregate(type, from: "sales", as: Identity.self, id: \.id, version: \.version)
        }
        #expect(try Self.envelope(SalesEvents.leadConverted, from: "sales").payload(as: ConvertedLead.self).dealId != nil)
        let answer = try Self.envelope(ContactEvents.contactLeadLinked, from: "contacts")
        #expect(answer.causationId != nil, "it names the conversion it answers")
        #expect(try answer.payload(as: ContactLeadLink.self).contactId == answer.aggregateId)
    }

    @Test("every activity fixture is the activity at its version; contacts reads the completed one")
    func activities() throws {
        for type in SalesEvents.activityTypes {
            _ = try Self.aggregate(type, from: "sales", as: Identity.self, id: \.id, version: \.version)
        }
        let activity = try Self.envelope(SalesEvents.activityCompleted, from: "sales").payload(as: CompletedActivity.self)
        #expect(activity.kind == "call" && activity.contactId != nil && activity.doneAt != nil)
    }

    @Test("every quote fixture is the quote at its version, numbered")
    func quotes() throws {
        for type in SalesEvents.quoteTypes {
            #expect(try Self.aggregate(type, from: "sales", as: FixtureQuote.self, id: \.id, version: \.version).number.hasPrefix("Q-"))
        }
    }
}
