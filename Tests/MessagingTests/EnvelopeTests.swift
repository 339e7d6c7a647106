import Foundation
@testable import Messaging
import Testing

@Suite("Event envelope wire format")
struct EnvelopeTests {
    /// DESIGN.md §2, pinned: field names, snake_case, millisecond UTC timestamps, explicit null.
    static let golden = """
        {"aggregate_id":"1b1c1a5e-0000-4000-8000-000000000002","aggregate_version":3,\
        "causation_id":null,"correlation_id":"1b1c1a5e-0000-4000-8000-000000000003",\
        "data":{"name":"Ada","tags":["vip"]},"id":"1b1c1a5e-0000-4000-8000-000000000001",\
        "occurred_at":"2026-11-22T10:15:30.123Z","producer":"contacts","type":"contacts.contact.created","version":1}
        """

    static let envelope = EventEnvelope(
        id: UUID(uuidString: "1b1c1a5e-0000-4000-8000-000000000001")!,
        type: "contacts.contact.created",
        occurredAt: Date(timeIntervalSince1970: 1_795_342_530.123),
        producer: "contacts",
        aggregateId: UUID(uuidString: "1b1c1a5e-0000-4000-8000-000000000002")!,
        aggregateVersion: 3,
        correlationId: UUID(uuidString: "1b1c1a5e-0000-4000-8000-000000000003")!,
        data: .object(["name": .string("Ada"), "tags": .array([.string("vip")])])
    )

    @Test("encodes to the golden JSON")
    func encodes() throws {
        let json = String(decoding: try Self.envelope.encoded(), as: UTF8.self)
        #expect(json.lowercased() == Self.golden.lowercased())
    }

    @Test("decodes the golden JSON, ignoring fields it does not know")
    func decodes() throws {
        let extended = Self.golden.replacingOccurrences(of: "\"version\":1}", with: "\"version\":1,\"future_field\":true}")
        let decoded = try EventEnvelope.decode(Array(extended.utf8))
        #expect(decoded.id == Self.envelope.id)
        #expect(decoded.aggregateVersion == 3)
        #expect(decoded.causationId == nil)
        #expect(abs(decoded.occurredAt.timeIntervalSince(Self.envelope.occurredAt)) < 0.001)
        #expect(decoded.data == Self.envelope.data)
    }

    @Test("timestamps keep their milliseconds through decode and encode")
    func timestampRoundTrip() throws {
        for text in ["2026-11-22T10:15:30.123Z", "2026-11-22T10:15:30.000Z", "2026-11-22T10:15:30.999Z", "1969-12-31T23:59:59.500Z"] {
            let date = try #require(try? EventCoding.timestampStyle.parse(text))
            #expect(EventCoding.timestamp(date) == text)
        }
    }

    @Test("a typed payload round-trips through data")
    func typedPayload() throws {
        struct Contact: Codable, Equatable { var name: String; var tags: [String] }
        let envelope = try EventEnvelope(
            type: "contacts.contact.created", producer: "contacts", aggregateId: UUID(), aggregateVersion: 1,
            payload: Contact(name: "Ada", tags: ["vip"])
        )
        #expect(try envelope.payload(as: Contact.self) == Contact(name: "Ada", tags: ["vip"]))
        #expect(envelope.correlationId == envelope.id, "a first event correlates with itself")
    }

    @Test("a decoded envelope's payload decodes straight from its message, and its data is the same document")
    func payloadFromMessage() throws {
        struct Contact: Codable, Equatable { var name: String; var tags: [String] }
        let decoded = try EventEnvelope.decode(Array(Self.golden.utf8))
        #expect(try decoded.payload(as: Contact.self) == Contact(name: "Ada", tags: ["vip"]))
        #expect(decoded == Self.envelope.with(occurredAt: decoded.occurredAt))
        #expect(String(decoding: try decoded.encoded(), as: UTF8.self).lowercased() == Self.golden.lowercased())
        struct Mismatch: Decodable { var name: Int }
        #expect(throws: DecodingError.self) { try decoded.payload(as: Mismatch.self) }
    }

    @Test("an envelope without data is refused, one with null data is not")
    func dataRequired() throws {
        let without = Self.golden.replacingOccurrences(of: #""data":{"name":"Ada","tags":["vip"]},"#, with: "")
        #expect(without != Self.golden)
        #expect(throws: DecodingError.self) { try EventEnvelope.decode(Array(without.utf8)) }
        let null = Self.golden.replacingOccurrences(of: #""data":{"name":"Ada","tags":["vip"]},"#, with: #""data":null,"#)
        #expect(try EventEnvelope.decode(Array(null.utf8)).data == .null)
    }

    @Test("the relay's message id, correlation id and traceparent are the ids in lowercase hex")
    func relayIdentifiers() throws {
        let correlation = try #require(UUID(uuidString: "0AF76519-16CD-43DD-8448-EB211C80319C"))
        let span = try #require(UUID(uuidString: "B7AD6B71-6920-4333-9D1E-0123456789AB"))
        #expect(OutboxRecord.lowercase(correlation) == "0af76519-16cd-43dd-8448-eb211c80319c")
        #expect(
            OutboxRecord.traceparent(correlation: correlation, span: span)
                == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169204333-01"
        )
    }

    @Test("event ids are version 7 UUIDs: the millisecond first, so ids made later sort later")
    func timeOrderedIds() throws {
        // Half a millisecond in, so that binary floating point cannot round to the one before.
        func instant(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: (Double(milliseconds) + 0.5) / 1000) }
        let start: Int64 = 1_795_000_000_123
        let id = UUID.timeOrdered(at: instant(start))
        let hex = id.uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        #expect(UInt64(hex.prefix(12), radix: 16) == 1_795_000_000_123)
        #expect(Array(hex)[12] == "7", "version 7: \(id)")
        #expect("89ab".contains(Array(hex)[16]), "RFC 9562 variant: \(id)")
        let later = (1...50).map { UUID.timeOrdered(at: instant(start + $0)) }
        let strings = ([id] + later).map { $0.uuidString }
        #expect(strings == strings.sorted())
        #expect(Set(later + (0..<50).map { _ in UUID.timeOrdered(at: instant(start)) }).count == 100, "the random part tells apart ids of one millisecond")
        #expect(EventEnvelope(type: "t", producer: "p", aggregateId: id, aggregateVersion: 1, data: .null).id.uuidString.lowercased().dropFirst(14).first == "7")
    }
}

extension EventEnvelope {
    func with(occurredAt: Date) -> EventEnvelope {
        var envelope = self
        envelope.occurredAt = occurredAt
        return envelope
    }
}
