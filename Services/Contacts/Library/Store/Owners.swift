import PostgresNIO
import ServiceKit
import StaffReplica

/// The contacts' and accounts' owners are users: the service's copy of them answers in its own errors.
extension StaffReplica {
    /// The owner a write names, as the user id to store.
    func owner(_ value: String?, on connection: PostgresConnection) async throws -> String? {
        try await owner(value, on: connection) { ContactsError.invalid("owner", $0) }
    }

    /// The owner after a patch: an owner the patch changes must be an active user; one it leaves
    /// as stored stays (a name typed before owners were users, a user deactivated since), so a
    /// form that sends every field back does not fail on it.
    func owner(patched: String?, stored: String?, on connection: PostgresConnection) async throws -> String? {
        patched == stored ? patched : try await owner(patched, on: connection)
    }

    /// A list's `owner` filter, an e-mail address read as its user's id.
    func filter<Filter: OwnerFilter>(_ filter: Filter) async throws -> Filter {
        var filter = filter
        filter.owner = try await self.filter(filter.owner) { ContactsError.invalid("owner", $0) }
        return filter
    }
}

extension ServiceStore {
    /// The service's copy of the staff's users.
    var staff: StaffReplica { StaffReplica(service: service) }
}

/// A filter with an `owner`.
protocol OwnerFilter: Sendable {
    var owner: String? { get set }
}

extension ContactFilter: OwnerFilter {}
extension AccountFilter: OwnerFilter {}
