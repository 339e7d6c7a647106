import Testing

@testable import GatewayService

/// The pages call the API as the user after checking the permission of one documented operation;
/// a typed path parameter must not turn the call into another operation.
@Suite("The pages' API calls keep each parameter one path segment")
struct ServiceAPIPathTests {
    @Test("a slash or a dot-segment in a parameter is encoded; ordinary ids and codes pass as they are")
    func segments() {
        #expect(ServiceAPI.segment("../../deals") == "..%2F..%2Fdeals")
        #expect(ServiceAPI.segment("..") == "%2E%2E")
        #expect(ServiceAPI.segment(".") == "%2E")
        #expect(ServiceAPI.segment("a/b") == "a%2Fb")
        #expect(ServiceAPI.segment("too_expensive") == "too_expensive")
        #expect(ServiceAPI.segment("0196f3a2-1b2c-7d4e-8f90-123456789abc") == "0196f3a2-1b2c-7d4e-8f90-123456789abc")
        #expect(ServiceAPI.segment("a b") == "a%20b")
    }
}
