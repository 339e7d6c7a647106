import Contracts
import Foundation
import Messaging
import Testing
import TestSupport

/// What the gateway adds to the sales API: which roles may write what. The API itself is tested
/// in-process (SalesTests).
@Suite("Sales roles through the gateway", .timeLimit(.minutes(3)))
struct SalesRolesTests {
    let api = APIClient()

    @Test("the lost-reason catalog is the admins': the sales role writes deals but no lost reason; support reads deals and writes none")
    func roles() async throws {
        let code = TestEnvironment.uniqueName("reason").lowercased().replacingOccurrences(of: "-", with: "_")
        let sales = try #require(try await api.post("/api/v1/api-keys", ["name": "seller", "role": "sales"]).json["key"] as? String)
        let seller = APIClient(key: sales)
        #expect(try await seller.post("/api/v1/lost-reasons", ["code": code + "x", "label": "x"]).status == 403)
        let dealBySeller = try await seller.post("/api/v1/deals", ["title": "Seller's", "amount": ["amount": "10", "currency": "USD"]])
        #expect(dealBySeller.status == 201, "the sales role writes deals")
        let support = try #require(try await api.post("/api/v1/api-keys", ["name": "desk", "role": "support"]).json["key"] as? String)
        #expect(try await APIClient(key: support).post("/api/v1/deals", ["title": "x", "amount": ["amount": "1", "currency": "EUR"]]).status == 403)
        #expect(try await APIClient(key: support).get("/api/v1/deals/\(dealBySeller.json["id"]!)").status == 200)
    }
}
