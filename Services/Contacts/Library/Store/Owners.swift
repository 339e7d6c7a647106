import PostgresNIO
import ServiceKit
import StaffReplica

/// The contacts' and accounts' owners are users: the service's copy of them answers in its own errors.
extension StaffReplica {
    /// The owner a write names, as the user id to store.
    func owner(_ value: String?, on connection: PostgresConnection) async throws -> String? {
        try await owner(value, on: connection, refuse: Self.refusal)
    }

    /// The owner after a patch (see `StaffReplica.owner(patched:stored:on:refuse:)`).
    func owner(patched: String?, stored: String?, on connection: PostgresConnection) async throws -> String? {
        try await owner(patched: patched, stored: stored, on: connection, refuse: Self.refusal)
    }

    /// A list's `owner` filter, an e-mail address read as its user's id.
    func filter<Filter: OwnerFilter>(_ filter: Filter) async throws -> Filter {
        try await self.filter(filter, refuse: Self.refusal)
    }

    private static func refusal(_ reason: String) -> ContactsError { ContactsError.invalid("owner", reason) }
}

extension ServiceStore {
    /// The service's copy of the staff's users.
    var staff: StaffReplica { StaffReplica(service: service) }
}

extension ContactFilter: OwnerFilter {}
extension AccountFilter: OwnerFilter {}
