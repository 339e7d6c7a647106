import Foundation

/// The event types the ERP bridge publishes on `crm.events` (`Services/ERPBridge/asyncapi.yaml`),
/// under the producer `erp`. Its messages to the ERPs themselves go to `erp.outbound` and are not
/// events.
public enum ERPEvents {
    /// The envelopes' producer and the types' prefix.
    public static let producer = "erp"

    /// An order seen for the first time. Data: the order document.
    public static let orderReceived = "erp.order.received"
    /// A newer version of an order with another status. Data: the order document.
    public static let orderStatusChanged = "erp.order.status_changed"
    /// A newer version of an order with the same status (lines, amounts, payment). Data: the order document.
    public static let orderUpdated = "erp.order.updated"
    /// A source's customer number now names a CRM customer. Data: `ERPCustomerLink`.
    public static let customerLinked = "erp.customer.linked"
    /// An order named a customer the CRM does not know: the contacts service makes it, with the id
    /// given, unless one with that tax id, e-mail or phone exists. Data: `ProspectRequest`.
    public static let prospectRequested = "erp.customer.prospect_requested"
    /// A suspicious-transaction rule found something about an order. Data: the alert document.
    public static let alertRaised = "erp.alert.raised"

    public static let orderTypes = [orderReceived, orderStatusChanged, orderUpdated]

    /// Every type above: the event channels of the bridge's AsyncAPI file (ContractsTests holds them equal).
    public static let published = orderTypes + [customerLinked, prospectRequested, alertRaised]
}

/// The data of `erp.customer.prospect_requested`.
public struct ProspectRequest: Codable, Sendable, Hashable {
    /// The id the new customer gets: a contact's, or with a tax id an account's.
    public var id: UUID
    public var source: String
    public var erpId: String
    public var name: String?
    public var taxId: String?
    public var email: String?
    public var phone: String?

    public init(id: UUID, source: String, erpId: String, name: String?, taxId: String?, email: String?, phone: String?) {
        self.id = id
        self.source = source
        self.erpId = erpId
        self.name = name
        self.taxId = taxId
        self.email = email
        self.phone = phone
    }

    /// With a tax id the customer is a company: an account.
    public var isCompany: Bool { taxId != nil }

    enum CodingKeys: String, CodingKey {
        case id, source, name, email, phone
        case erpId = "erp_id"
        case taxId = "tax_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(erpId, forKey: .erpId)
        try container.encode(name, forKey: .name)
        try container.encode(taxId, forKey: .taxId)
        try container.encode(email, forKey: .email)
        try container.encode(phone, forKey: .phone)
    }
}

/// The data of `erp.customer.linked` (the bridge's) and of `contacts.customer.erp_linked` (the
/// contacts service's answer to a `ProspectRequest`): a source's customer number and the CRM
/// customer it is, a contact or an account.
public struct ERPCustomerLink: Codable, Sendable, Hashable {
    public var source: String
    public var erpId: String
    public var contactId: UUID?
    public var accountId: UUID?
    /// How the customer was found: `crm_id`, `tax_id`, `email`, `phone`, `created`, `customer_ack`.
    public var matchedBy: String
    /// In the contacts service's answer: the id the request asked for (the customer may be another, found).
    public var requestedId: UUID?

    public init(source: String, erpId: String, contactId: UUID?, accountId: UUID?, matchedBy: String, requestedId: UUID? = nil) {
        self.source = source
        self.erpId = erpId
        self.contactId = contactId
        self.accountId = accountId
        self.matchedBy = matchedBy
        self.requestedId = requestedId
    }

    /// The customer's id, whichever kind it is.
    public var customerId: UUID? { accountId ?? contactId }

    enum CodingKeys: String, CodingKey {
        case source
        case erpId = "erp_id"
        case contactId = "contact_id"
        case accountId = "account_id"
        case matchedBy = "matched_by"
        case requestedId = "requested_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(erpId, forKey: .erpId)
        try container.encode(contactId?.uuidString.lowercased(), forKey: .contactId)
        try container.encode(accountId?.uuidString.lowercased(), forKey: .accountId)
        try container.encode(matchedBy, forKey: .matchedBy)
        if let requestedId { try container.encode(requestedId.uuidString.lowercased(), forKey: .requestedId) }
    }
}
