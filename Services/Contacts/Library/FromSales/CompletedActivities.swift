import Contracts
import Foundation
import Logging
import Messaging
import ServiceKit

/// A call or meeting done in sales, with a contact, goes on the contact's timeline: the contacts
/// service logs it from `sales.activity.completed` (a call by phone, a meeting as a visit,
/// outbound, at the time it was done). Tasks are not contacts with the customer and are skipped.
struct CompletedActivities: Sendable {
    let interactions: InteractionStore
    let logger: Logger

    var handler: EventHandler {
        EventHandler(type: SalesEvents.activityCompleted) { envelope, context in
            let activity = try envelope.payload(as: CompletedActivity.self)
            guard let contactId = activity.contactId, let channel = Self.channel(activity.kind) else { return }
            let occurredAt = activity.doneAt.flatMap(EventCoding.parseTimestamp) ?? envelope.occurredAt
            let fields = InteractionFields(
                channel: channel, direction: .outbound, occurredAt: occurredAt, subject: String(activity.subject.prefix(500)),
                notes: activity.notes.map { String($0.prefix(20_000)) }, outcome: activity.outcome.map { String($0.prefix(200)) },
                recordedBy: activity.owner.map { String($0.prefix(200)) }, dealId: activity.dealId
            )
            do {
                _ = try await interactions.record(fields, contactId: contactId, on: context.connection)
            } catch ContactsError.notFound {
                // The contact was deleted after the activity was planned: there is no timeline to log on.
                logger.warning("completed activity of a deleted contact not logged", metadata: [
                    "activity": "\(activity.id.lowercased)", "contact": "\(contactId.lowercased)",
                ])
            }
        }
    }

    static func channel(_ kind: String) -> Channel? {
        switch kind {
        case "call": .phone
        case "meeting": .visit
        default: nil
        }
    }
}
