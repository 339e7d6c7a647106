import Foundation
import Messaging
import ServiceKit

extension Document {
    /// The event a change of a contacts resource causes, with the document as its data.
    func event(_ type: String, aggregateId: UUID, version: Int64) throws -> EventEnvelope {
        try event(type, producer: "contacts", aggregateId: aggregateId, version: version)
    }
}
