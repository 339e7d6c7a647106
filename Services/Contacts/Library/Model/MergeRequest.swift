import Foundation

/// `POST /contacts/merge`: the survivor keeps its id; the merged contacts' interactions, e-mails,
/// phones, tags and custom fields move to it, and their ids resolve to it from then on.
public struct MergeRequest: Codable, Sendable {
    public var survivorId: UUID
    public var mergedIds: [UUID]
    /// A field's value taken from a chosen contact (`{"last_name": "<id>"}`); every other field is
    /// the survivor's, or the first merged contact's where the survivor has none.
    public var fields: [String: UUID]?
    /// The survivor's version, when the client wants to be sure it merges what it looked at.
    public var version: Int64?

    enum CodingKeys: String, CodingKey {
        case fields, version
        case survivorId = "survivor_id"
        case mergedIds = "merged_ids"
    }
}
