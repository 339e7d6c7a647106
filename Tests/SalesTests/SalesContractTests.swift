import SalesService
import Testing
import TestSupport

@Suite("The sales API contract")
struct SalesContractTests {
    @Test("every route sales registers is in Services/Sales/openapi.yaml, and every operation there is registered")
    func routesMatchDocument() throws {
        let (undescribed, unregistered, count) = try ServiceContract.compare(SalesService.definition, folder: "Sales")
        #expect(count >= 20)
        #expect(undescribed == [], "registered but not described")
        #expect(unregistered == [], "described but not registered")
    }
}
