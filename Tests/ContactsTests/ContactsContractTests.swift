import ContactsService
import Testing
import TestSupport

@Suite("The contacts API contract")
struct ContactsContractTests {
    @Test("every route contacts registers is in Services/Contacts/openapi.yaml, and every operation there is registered")
    func routesMatchDocument() throws {
        let (undescribed, unregistered, count) = try ServiceContract.compare(ContactsService.definition, folder: "Contacts")
        #expect(count >= 20)
        #expect(undescribed == [], "registered but not described")
        #expect(unregistered == [], "described but not registered")
    }
}
