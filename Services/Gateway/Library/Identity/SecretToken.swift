import Crypto
import Foundation

/// Random secrets handed out once (API keys, session cookies, one-time links, calendar feeds) and
/// the SHA-256 that is all the database keeps of them.
enum SecretToken {
    /// 32 random bytes as lowercase hex.
    static func make() -> String {
        var random = SystemRandomNumberGenerator()
        return hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })
    }

    /// Lowercase hex of the secret's SHA-256.
    static func hash(_ secret: String) -> String {
        hex(Array(SHA256.hash(data: Array(secret.utf8))))
    }

    /// Every request hashes its key: `String(format:)` per byte was about 8% of the gateway's CPU
    /// under the overview benchmark.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in bytes {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Equal without telling, by its time, how much of a guess was right.
    static func same(_ left: String, _ right: String) -> Bool {
        let (a, b) = (Array(left.utf8), Array(right.utf8))
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
