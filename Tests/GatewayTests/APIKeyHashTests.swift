import Testing

@testable import GatewayService

@Suite("API key hashes")
struct APIKeyHashTests {
    @Test("a key is stored as the lowercase hex of its SHA-256, as the keys already stored were")
    func sha256Hex() {
        #expect(SecretToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SecretToken.hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
