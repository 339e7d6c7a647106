import Foundation

/// The event types the gateway publishes for the staff's users and teams (`Services/Gateway/asyncapi.yaml`),
/// under the producer `identity`. Each carries the full current document; never a password or its hash.
public enum IdentityEvents {
    /// The envelopes' producer and the types' prefix.
    public static let producer = "identity"

    public static let userCreated = "identity.user.created"
    /// A change of the user's own fields (name, e-mail, role, teams, time zone, out of office).
    public static let userUpdated = "identity.user.updated"
    /// The user may no longer sign in and must not be given new work; their sessions ended.
    public static let userDeactivated = "identity.user.deactivated"
    public static let userReactivated = "identity.user.reactivated"

    public static let userTypes = [userCreated, userUpdated, userDeactivated, userReactivated]

    public static let teamCreated = "identity.team.created"
    /// A change of the team's name, lead or members.
    public static let teamUpdated = "identity.team.updated"
    public static let teamDeleted = "identity.team.deleted"

    public static let teamTypes = [teamCreated, teamUpdated, teamDeleted]

    /// Every type above: the channels of the gateway's AsyncAPI file (ContractsTests holds them equal).
    public static let published = userTypes + teamTypes
}

/// What a consumer reads of an `identity.user.*` event (the user document).
public struct StaffUser: Decodable, Sendable, Hashable {
    public var id: UUID
    public var name: String
    public var email: String
    public var role: String
    public var active: Bool
    public var teamIds: [UUID]
    public var timeZone: String
    public var outOfOffice: OutOfOffice?
    public var version: Int64

    public struct OutOfOffice: Decodable, Sendable, Hashable {
        public var from: String
        public var to: String
    }

    enum CodingKeys: String, CodingKey {
        case id, name, email, role, active, version
        case teamIds = "team_ids", timeZone = "time_zone", outOfOffice = "out_of_office"
    }
}
