import Contracts

/// What an API key may do (DESIGN.md §7).
public enum Role: String, APIEnum {
    case admin, sales, support, marketing, readonly
}

/// What a route needs of its caller.
enum Permission: Sendable {
    /// Any valid key.
    case read
    /// The customer base is everybody's work: admins and the sales, support and marketing roles write it.
    case writeCustomers
    /// Leads, deals, pipelines and the rest of sales: admins and the sales role.
    case writeSales
    /// Keys, custom-field definitions and catalogs such as the lost reasons.
    case admin

    func allows(_ role: Role) -> Bool {
        switch self {
        case .read: true
        case .writeCustomers: role != .readonly
        case .writeSales: role == .admin || role == .sales
        case .admin: role == .admin
        }
    }
}
