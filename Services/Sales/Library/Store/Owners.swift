import PostgresNIO
import ServiceKit
import StaffReplica

/// Sales' owners are users: its copy of them answers in sales' own errors.
extension StaffReplica {
    /// The owner a write names, as the user id to store.
    func owner(_ value: String?, field: String = "owner", on connection: PostgresConnection) async throws -> String? {
        try await owner(value, on: connection) { SalesError.invalid(field, $0) }
    }

    /// The owner after a patch of the document `stored` (see `StaffReplica.owner(patched:stored:on:refuse:)`).
    func owner(patched: String?, stored: Document, on connection: PostgresConnection) async throws -> String? {
        try await owner(patched: patched, stored: try stored.decode(StoredOwner.self).owner, on: connection) { SalesError.invalid("owner", $0) }
    }

    /// A list's or report's `owner` filter, an e-mail address read as its user's id.
    func filter<Filter: OwnerFilter>(_ filter: Filter) async throws -> Filter {
        try await self.filter(filter) { SalesError.invalid("owner", $0) }
    }
}

private struct StoredOwner: Decodable {
    var owner: String?
}

extension CallListFilter: OwnerFilter {}
extension LeadFilter: OwnerFilter {}
extension ActivityFilter: OwnerFilter {}
extension DealFilter: OwnerFilter {}
extension ReportStore.Range: OwnerFilter {}
