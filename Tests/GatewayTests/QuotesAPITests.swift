import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
@testable import SalesService
import Storage
import Testing
import TestSupport

/// The quote events' golden fixtures (the API itself is tested in-process: SalesTests/QuotesAPITests).
@Suite("Products, lines and quotes", .serialized, .timeLimit(.minutes(2)))
struct QuotesAPITests {
    struct FixtureQuote: Decodable {
        var id: UUID
        var version: Int64
        var number: String
        var total: Money
    }

    @Test("every quote fixture is an envelope from sales whose data is the quote at its version")
    func fixtures() throws {
        for type in SalesEvents.quoteTypes {
            let envelope = try EventEnvelope.decode(Array(try Data(contentsOf: EventFixtures.url(type))))
            #expect(envelope.type == type)
            #expect(envelope.producer == "sales")
            let quote = try envelope.payload(as: FixtureQuote.self)
            #expect(quote.id == envelope.aggregateId)
            #expect(quote.version == envelope.aggregateVersion)
            #expect(quote.number.hasPrefix("Q-"))
        }
    }
}
