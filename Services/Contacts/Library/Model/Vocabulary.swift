import Contracts

public enum PurchasePurpose: String, APIEnum {
    case resale
    case ownUse = "own_use"
    case other
}

/// What matters most to the customer when buying; a contact ranks them.
public enum BuyingPriority: String, APIEnum {
    case price, quality
    case deliveryTime = "delivery_time"
    case service
}

public enum PaymentMethod: String, APIEnum {
    case cash, card, invoice, other
    case bankTransfer = "bank_transfer"
    case directDebit = "direct_debit"
}

public enum CustomerType: String, APIEnum {
    case prospect, customer, partner
    case formerCustomer = "former_customer"
}

public enum SizeBand: String, APIEnum {
    case micro = "1-9"
    case small = "10-49"
    case medium = "50-249"
    case large = "250-999"
    case enterprise = "1000+"
}

public enum Channel: String, APIEnum {
    case visit, phone, email, fax, web, chat, letter
}

public enum Direction: String, APIEnum {
    case inbound, outbound
}
