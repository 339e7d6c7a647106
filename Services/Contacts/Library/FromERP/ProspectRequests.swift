import Contracts
import Foundation
import Logging
import Messaging
import PostgresNIO
import ServiceKit
import Storage

/// The contacts side of an ERP's unknown customer: `erp.customer.prospect_requested` asks for the
/// customer behind a source's customer number. A company (it has a tax number) is the live
/// account with that number, or a new account; a person is the live contact with that e-mail or
/// phone, or a new prospect. A new one gets the id the request chose, which the bridge's orders
/// name already. The answer, `contacts.customer.erp_linked`, commits with all of it.
struct ProspectRequests: ServiceStore {
    let service: ServiceDependencies
    let contacts: ContactStore
    let accounts: AccountStore

    var handler: EventHandler {
        EventHandler(type: ERPEvents.prospectRequested) { envelope, context in
            let request = try envelope.payload(as: ProspectRequest.self)
            let link = request.isCompany
                ? try await account(for: request, on: context.connection) : try await contact(for: request, on: context.connection)
            try await outbox.append(
                try EventEnvelope(
                    type: ContactEvents.customerERPLinked, producer: "contacts", aggregateId: link.customerId ?? request.id, aggregateVersion: 1,
                    correlationId: envelope.correlationId, causationId: envelope.id, payload: link
                ),
                on: context.connection, logger: logger
            )
        }
    }

    private func account(for request: ProspectRequest, on connection: PostgresConnection) async throws -> ERPCustomerLink {
        let key = request.taxId.flatMap(Normalize.taxId) ?? ""
        var lock = SQLBuilder()
        lock.append("SELECT pg_advisory_xact_lock(hashtext('contacts.account-tax:' || \(try lock.bind(key))))")
        try await connection.query(lock.query, logger: logger)
        var find = SQLBuilder()
        find.append("""
            SELECT id FROM \(schema.table("accounts"))
            WHERE regexp_replace(upper(tax_id), '[^A-Z0-9]', '', 'g') = \(try find.bind(key)) AND tax_id IS NOT NULL AND deleted_at IS NULL
            ORDER BY created_at, id LIMIT 1
            """)
        for try await id in try await connection.query(find.query, logger: logger).decode(UUID.self) {
            return ERPCustomerLink(source: request.source, erpId: request.erpId, contactId: nil, accountId: id, matchedBy: "tax_id", requestedId: request.id)
        }
        var fields = AccountFields()
        fields.name = request.name ?? "Customer \(request.erpId) of \(request.source)"
        fields.taxId = request.taxId
        let valid: AccountFields
        do {
            valid = try fields.validated(definitions: [])
        } catch {
            throw PermanentEventError("the ERP's customer \(request.erpId) cannot become an account: \(error)")
        }
        _ = try await accounts.insert(valid, id: request.id, on: connection)
        return ERPCustomerLink(source: request.source, erpId: request.erpId, contactId: nil, accountId: request.id, matchedBy: "created", requestedId: request.id)
    }

    private func contact(for request: ProspectRequest, on connection: PostgresConnection) async throws -> ERPCustomerLink {
        var fields = ContactFields()
        let words = (request.name ?? "").split(separator: " ", omittingEmptySubsequences: true)
        if words.count > 1 {
            fields.firstName = words.dropLast().joined(separator: " ")
            fields.lastName = String(words.last!)
        } else {
            fields.lastName = words.first.map(String.init) ?? "Customer \(request.erpId) of \(request.source)"
        }
        fields.emails = request.email.map { [EmailAddress(address: $0, primary: true)] }
        fields.phones = request.phone.map { [PhoneNumber(number: $0, primary: true)] }
        fields.customerType = .prospect
        let valid: ValidContact
        do {
            valid = try fields.validated(definitions: [], previous: nil, now: Date())
        } catch {
            throw PermanentEventError("the ERP's customer \(request.erpId) cannot become a contact: \(error)")
        }
        let holders = try await contacts.claimHolders(emailKeys: valid.emailKeys, phoneKeys: valid.phoneKeys, on: connection)
        if let holder = holders.first {
            let byEmail = !Set(holder.emailKeys).isDisjoint(with: valid.emailKeys)
            return ERPCustomerLink(
                source: request.source, erpId: request.erpId, contactId: holder.id, accountId: nil, matchedBy: byEmail ? "email" : "phone",
                requestedId: request.id
            )
        }
        _ = try await contacts.insertWithEvents([valid], ids: [request.id], documents: false, on: connection)
        return ERPCustomerLink(source: request.source, erpId: request.erpId, contactId: request.id, accountId: nil, matchedBy: "created", requestedId: request.id)
    }
}
