/// The event types the sales service publishes (`Services/Sales/asyncapi.yaml`). Each carries the
/// full current document of its aggregate.
public enum SalesEvents {
    public static let dealCreated = "sales.deal.created"
    /// A change of the deal's own fields (title, amount, owner…), or its contact re-pointed by a merge.
    public static let dealUpdated = "sales.deal.updated"
    /// The deal document plus `previous_stage_id`.
    public static let dealStageChanged = "sales.deal.stage_changed"
    public static let dealWon = "sales.deal.won"
    public static let dealLost = "sales.deal.lost"
    public static let dealReopened = "sales.deal.reopened"
    public static let dealDeleted = "sales.deal.deleted"

    public static let dealTypes = [dealCreated, dealUpdated, dealStageChanged, dealWon, dealLost, dealReopened, dealDeleted]
}
