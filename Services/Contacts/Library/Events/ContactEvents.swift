/// The event types the contacts service publishes (`Services/Contacts/asyncapi.yaml`). Each
/// carries the full current document, so consumers keep replicas without calling back.
public enum ContactEvents {
    public static let contactCreated = "contacts.contact.created"
    public static let contactUpdated = "contacts.contact.updated"
    /// `{"survivor": <contact>, "merged_ids": [...]}`.
    public static let contactMerged = "contacts.contact.merged"
    public static let contactDeleted = "contacts.contact.deleted"
    public static let accountCreated = "contacts.account.created"
    public static let accountUpdated = "contacts.account.updated"
    public static let accountDeleted = "contacts.account.deleted"
    public static let interactionLogged = "contacts.interaction.logged"
}
