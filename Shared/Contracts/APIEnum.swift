/// A closed set of string values in the API and in events. Decoding an unknown value fails with
/// the list of allowed ones, which the API turns into a field error.
public protocol APIEnum: RawRepresentable<String>, CaseIterable, Codable, Sendable, Hashable {}

extension APIEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not one of: \(Self.allowedValues)"
            )
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static var allowedValues: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
