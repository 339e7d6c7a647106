import Foundation
import ServiceKit

/// Reads a JSON document an outside system sent, member by member, collecting every fault with
/// its path (`lines[2].quantity`), so one rejection names all of them.
struct DocumentReader {
    private(set) var errors: [FieldError] = []

    mutating func fail(_ field: String, _ message: String) {
        errors.append(FieldError(field, message))
    }

    /// The body as a JSON object, or nil with the fault recorded under `""`.
    mutating func object(body: [UInt8]) -> [String: Any]? {
        guard let value = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            fail("", "the body is not JSON")
            return nil
        }
        guard let object = value as? [String: Any] else {
            fail("", "the body must be a JSON object")
            return nil
        }
        return object
    }

    mutating func object(_ value: Any?, _ field: String, required: Bool = false) -> [String: Any]? {
        guard let value, !(value is NSNull) else {
            if required { fail(field, "is required") }
            return nil
        }
        guard let object = value as? [String: Any] else {
            fail(field, "must be an object")
            return nil
        }
        return object
    }

    mutating func array(_ value: Any?, _ field: String, required: Bool = false) -> [Any]? {
        guard let value, !(value is NSNull) else {
            if required { fail(field, "is required") }
            return nil
        }
        guard let array = value as? [Any] else {
            fail(field, "must be an array")
            return nil
        }
        return array
    }

    /// Trimmed text of at most `maximum` characters, without control characters.
    mutating func text(_ value: Any?, _ field: String, required: Bool = false, maximum: Int = 200) -> String? {
        guard let value, !(value is NSNull) else {
            if required { fail(field, "is required") }
            return nil
        }
        guard let string = value as? String else {
            fail(field, "must be a string")
            return nil
        }
        let trimmed = string.trimmed
        if trimmed.isEmpty {
            if required { fail(field, "must not be empty") }
            return nil
        }
        if trimmed.count > maximum {
            fail(field, "must be at most \(maximum) characters")
            return nil
        }
        if FieldChecker.hasControlCharacters(trimmed) {
            fail(field, "must not hold control characters")
            return nil
        }
        return trimmed
    }

    /// A whole number (JSON number without a fraction) within `range`.
    mutating func integer(_ value: Any?, _ field: String, required: Bool = false, in range: ClosedRange<Int64> = 0...Int64(1) << 53) -> Int64? {
        guard let value, !(value is NSNull) else {
            if required { fail(field, "is required") }
            return nil
        }
        // JSON's true arrives as an NSNumber too (of type "c"); `is Bool` holds even for 1.
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c",
            let whole = Int64(exactly: number.doubleValue)
        else {
            fail(field, "must be a whole number")
            return nil
        }
        guard range.contains(whole) else {
            fail(field, "must be between \(range.lowerBound) and \(range.upperBound)")
            return nil
        }
        return whole
    }

    /// A decimal string (`"1250.00"`, never a JSON number): amounts must not pass through floating point.
    mutating func decimal(_ value: Any?, _ field: String, required: Bool = false, negative: Bool = false) -> String? {
        guard let value, !(value is NSNull) else {
            if required { fail(field, "is required") }
            return nil
        }
        guard let string = value as? String else {
            fail(field, "must be a decimal string such as \"12.50\"")
            return nil
        }
        guard Self.isDecimal(string, negative: negative) else {
            fail(field, negative ? "must be a decimal string such as \"-12.50\"" : "must be a decimal string such as \"12.50\", not negative")
            return nil
        }
        return string
    }

    static func isDecimal(_ text: String, negative: Bool) -> Bool {
        var bytes = Substring(text).utf8[...]
        if negative, bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        let digit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        guard let whole = parts.first, (1...12).contains(whole.count), whole.allSatisfy(digit) else { return false }
        guard parts.count == 2 else { return true }
        return (1...6).contains(parts[1].count) && parts[1].allSatisfy(digit)
    }

    /// An RFC 3339 time with its offset (`2026-12-07T10:15:00Z`, fractions allowed).
    mutating func time(_ value: Any?, _ field: String, required: Bool = false) -> Date? {
        guard let text = text(value, field, required: required, maximum: 40) else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        fail(field, "must be a time such as 2026-12-07T10:15:00Z, with its offset")
        return nil
    }

    mutating func uuid(_ value: Any?, _ field: String) -> UUID? {
        guard let text = text(value, field, maximum: 36) else { return nil }
        guard let id = UUID(uuidString: text) else {
            fail(field, "must be a UUID")
            return nil
        }
        return id
    }

    mutating func oneOf<T: RawRepresentable>(_ value: Any?, _ field: String, required: Bool = false, _: T.Type) -> T?
    where T.RawValue == String, T: CaseIterable {
        guard let text = text(value, field, required: required, maximum: 50) else { return nil }
        guard let result = T(rawValue: text) else {
            fail(field, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return result
    }
}

/// The faults that make a message one the bridge cannot take, each named by its field.
struct Rejection: Error, Sendable {
    var errors: [FieldError]
    init(_ errors: [FieldError]) { self.errors = errors }
}
