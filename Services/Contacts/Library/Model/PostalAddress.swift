public struct PostalAddress: Codable, Sendable, Hashable {
    public var street: String?
    public var city: String?
    public var region: String?
    public var postalCode: String?
    /// ISO 3166-1 alpha-2, upper case.
    public var country: String?

    public init(street: String? = nil, city: String? = nil, region: String? = nil, postalCode: String? = nil, country: String? = nil) {
        self.street = street
        self.city = city
        self.region = region
        self.postalCode = postalCode
        self.country = country
    }

    enum CodingKeys: String, CodingKey {
        case street, city, region, country
        case postalCode = "postal_code"
    }
}
