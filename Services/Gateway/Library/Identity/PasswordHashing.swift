import HummingbirdBcrypt
import NIOPosix

/// Bcrypt off the async executor. A hash or a check costs about a quarter second of CPU; on the
/// cooperative threads (two on a two-core machine) two sign-ins at once would stall every route of
/// the gateway, so NIO's pool for blocking work runs them.
enum PasswordHashing {
    /// 12 (about a quarter second here) makes a stolen hash slow to guess.
    static let cost: UInt8 = 12

    static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether the password is the hash's. Without a hash (an e-mail nobody has, a user who never
    /// set a password) a decoy of the same cost is checked, so the time taken tells nothing.
    static func verify(_ password: String, hash: String?) async throws -> Bool {
        let verified = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash ?? decoy) }
        return hash != nil && verified
    }

    /// A hash of a password nobody can type, made once at the real cost.
    private static let decoy = Bcrypt.hash("\u{0}decoy", cost: cost)
}
