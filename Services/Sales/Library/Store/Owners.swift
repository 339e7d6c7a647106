import PostgresNIO
import ServiceKit
import StaffReplica

/// Sales' owners are users: its copy of them answers in sales' own errors.
extension StaffReplica {
    /// The owner a write names, as the user id to store.
    func owner(_ value: String?, field: String = "owner", on connection: PostgresConnection) async throws -> String? {
        try await owner(value, on: connection) { SalesError.invalid(field, $0) }
    }

    /// The owner after a patch: an owner the patch changes must be an active user; one it leaves
    /// as stored stays (a name typed before owners were users, a user deactivated since), so a
    /// form that sends every field back does not fail on it.
    func owner(patched: String?, stored: Document, on connection: PostgresConnection) async throws -> String? {
        patched == (try stored.decode(StoredOwner.self).owner) ? patched : try await owner(patched, on: connection)
    }

    /// A list's or report's `owner` filter, an e-mail address read as its user's id.
    func filter<Filter: OwnerFilter>(_ filter: Filter) async throws -> Filter {
        var filter = filter
        filter.owner = try await self.filter(filter.owner) { SalesError.invalid("owner", $0) }
        return filter
    }
}

private struct StoredOwner: Decodable {
    var owner: String?
}

/// A filter with an `owner`.
protocol OwnerFilter: Sendable {
    var owner: String? { get set }
}

extension CallListFilter: OwnerFilter {}
extension LeadFilter: OwnerFilter {}
extension ActivityFilter: OwnerFilter {}
extension DealFilter: OwnerFilter {}
extension ReportStore.Range: OwnerFilter {}
