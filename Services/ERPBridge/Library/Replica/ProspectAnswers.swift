import Contracts
import Foundation
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// The contacts service's answer to `erp.customer.prospect_requested`: the customer it made, or
/// the one it found with the same tax id, e-mail or phone. The source's number is linked to it
/// for good (announced, and the customer's master data sent to the source); orders that named the
/// id asked for name the customer found instead.
struct ProspectAnswers: ServiceStore {
    let service: ServiceDependencies
    let matching: CustomerMatching

    var handler: EventHandler {
        EventHandler(type: ContactEvents.customerERPLinked) { envelope, context in
            let answer = try envelope.payload(as: ERPCustomerLink.self)
            guard answer.customerId != nil else { throw PermanentEventError("the answer names neither a contact nor an account") }
            let connection = context.connection
            try await matching.lock(source: answer.source, erpId: answer.erpId, on: connection)
            if let requested = answer.requestedId, requested != answer.customerId {
                var sql = SQLBuilder()
                sql.append("""
                    UPDATE \(schema.table("orders")) SET contact_id = \(try sql.bind(answer.contactId)), account_id = \(try sql.bind(answer.accountId)),
                        updated_at = now()
                    WHERE source = \(try sql.bind(answer.source)) AND (contact_id = \(try sql.bind(requested)) OR account_id = \(try sql.bind(requested)))
                    """)
                try await connection.query(sql.query, logger: logger)
            }
            _ = try await matching.link(
                CustomerMatch(contactId: answer.contactId, accountId: answer.accountId, matchedBy: answer.matchedBy), source: answer.source,
                erpId: answer.erpId, correlation: envelope.correlationId, on: connection
            )
        }
    }
}
