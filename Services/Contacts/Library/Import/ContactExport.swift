import Contracts
import Foundation
import Messaging
import Logging
import PostgresNIO
import ServiceKit
import Storage

/// `GET /contacts/export`: the filtered list as CSV in the import's columns, streamed page by
/// page, so an export of any size holds one page in memory.
struct ContactExport: Sendable {
    let contacts: ContactStore
    let logger: Logger
    static let pageSize = 1000

    func csv(_ filter: ContactFilter) async throws -> StreamedText {
        let definitions = try await contacts.client.read(logger: logger) { [contacts, logger] connection in
            try await CustomFieldStore.definitions(schema: contacts.schema, on: connection, logger: logger)
        }
        let custom = definitions.filter { $0.entity == .contact }.map(\.name).sorted()
        let header = CSVColumn.allCases.map(\.rawValue) + custom.map { "custom.\($0)" }
        var first = filter
        first.page = PageRequest(limit: Self.pageSize)
        let start = first
        let store = contacts
        return StreamedText { emit in
            try await emit(CSVWriter.row(header))
            var page = start
            while true {
                let result = try await store.list(page)
                var text = ""
                for item in result.items {
                    text += CSVWriter.row(try Self.row(Document(text: item).decode(Contact.self), custom: custom))
                }
                try await emit(text)
                guard let next = result.nextCursor else { break }
                guard let cursor = Cursor.read(next, kinds: start.sort.cursorKinds) else {
                    throw UnexpectedAnswer(statement: "contact list", answer: "a cursor of another kind")
                }
                page.page.cursor = cursor
            }
        }
    }

    static func row(_ contact: Contact, custom: [String]) -> [String] {
        let fields = contact.fields
        func consent(_ record: ConsentRecord?) -> String { record.map { $0.granted ? "true" : "false" } ?? "" }
        let values: [CSVColumn: String] = [
            .id: contact.id.lowercased, .firstName: fields.firstName ?? "", .lastName: fields.lastName ?? "",
            .email: (fields.emails ?? []).map(\.address).joined(separator: ";"),
            .phone: (fields.phones ?? []).map(\.number).joined(separator: ";"),
            .position: fields.position ?? "", .company: fields.company ?? "", .accountId: fields.accountId?.lowercased ?? "",
            .street: fields.address?.street ?? "", .city: fields.address?.city ?? "", .region: fields.address?.region ?? "",
            .postalCode: fields.address?.postalCode ?? "", .country: fields.address?.country ?? "",
            .preferredLanguage: fields.preferredLanguage ?? "", .leadSource: fields.leadSource?.rawValue ?? "",
            .purchasePurpose: fields.purchasePurpose?.rawValue ?? "",
            .buyingPriorities: (fields.buyingPriorities ?? []).map(\.rawValue).joined(separator: ";"),
            .paymentMethod: fields.paymentMethod?.rawValue ?? "", .customerType: fields.customerType?.rawValue ?? "",
            .tags: (fields.tags ?? []).joined(separator: ";"), .owner: fields.owner ?? "",
            .emailConsent: consent(fields.consent?.email), .phoneConsent: consent(fields.consent?.phone),
            .smsConsent: consent(fields.consent?.sms),
            .createdAt: EventCoding.timestamp(contact.createdAt), .updatedAt: EventCoding.timestamp(contact.updatedAt),
        ]
        let customValues = custom.map { name -> String in
            switch fields.customFields?[name] {
            case let .string(text)?: text
            case let .number(number)?: number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case let .bool(flag)?: flag ? "true" : "false"
            default: ""
            }
        }
        return CSVColumn.allCases.map { values[$0] ?? "" } + customValues
    }
}
