import Foundation

/// The character sets an import reads. A CSV file carries no label of its own: UTF-8 is assumed
/// unless the upload names another (`Content-Type: text/csv; charset=iso-8859-1`), and bytes that
/// are not valid in it fail their row instead of turning into replacement characters, which would
/// be stored as if they were the customer's name.
enum CSVCharset: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case latin1 = "iso-8859-1"
    case windows1252 = "windows-1252"

    /// From a `charset` parameter, with the common aliases; nil for one it does not read.
    init?(label: String) {
        switch label.lowercased().trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) {
        case "utf-8", "utf8", "us-ascii", "ascii": self = .utf8
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1": self = .latin1
        case "windows-1252", "cp1252", "x-cp1252": self = .windows1252
        default: return nil
        }
    }

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// The text of `bytes`, or why they are not text in this set.
    func decode(_ bytes: [UInt8]) -> Result<String, CSVTextError> {
        if let zero = bytes.firstIndex(of: 0) { return .failure(.nul(offset: zero)) }
        switch self {
        case .utf8:
            guard let text = String(validating: bytes, as: UTF8.self) else {
                return .failure(.notUTF8(offset: Self.firstInvalidUTF8(bytes), byte: bytes[Self.firstInvalidUTF8(bytes)]))
            }
            return .success(text)
        case .latin1:
            return .success(String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) })))
        case .windows1252:
            var scalars = String.UnicodeScalarView()
            for (offset, byte) in bytes.enumerated() {
                guard let scalar = Self.windows1252Scalar(byte) else { return .failure(.undefined(offset: offset, byte: byte, charset: self)) }
                scalars.append(scalar)
            }
            return .success(String(scalars))
        }
    }

    /// The bytes as far as they can be shown, for the error report: a byte that is not text
    /// becomes U+FFFD, and NUL the symbol ␀, so that the report itself can always be stored.
    func display(_ bytes: [UInt8]) -> String {
        let text: String
        switch self {
        case .utf8: text = String(decoding: bytes, as: UTF8.self)
        case .latin1, .windows1252:
            text = String(String.UnicodeScalarView(bytes.map { (self == .windows1252 ? Self.windows1252Scalar($0) : nil) ?? Unicode.Scalar($0) }))
        }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\0" ? "\u{2400}" : $0 }))
    }

    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var offset = 0
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): offset += UTF8.width(scalar)
            case .emptyInput: return max(0, bytes.count - 1)
            case .error: return min(offset, bytes.count - 1)
            }
        }
    }

    /// Windows-1252 differs from Latin-1 in 0x80–0x9F; five of those bytes mean nothing.
    private static func windows1252Scalar(_ byte: UInt8) -> Unicode.Scalar? {
        guard (0x80...0x9F).contains(byte) else { return Unicode.Scalar(byte) }
        let table: [UInt32] = [
            0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
            0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
        ]
        let value = table[Int(byte - 0x80)]
        return value == 0 ? nil : Unicode.Scalar(value)
    }
}

/// Why a field's bytes are not text.
enum CSVTextError: Error, Sendable, Equatable {
    case nul(offset: Int)
    case notUTF8(offset: Int, byte: UInt8)
    case undefined(offset: Int, byte: UInt8, charset: CSVCharset)

    var reason: String {
        switch self {
        case .nul:
            "holds a NUL byte, which cannot be stored"
        case let .notUTF8(offset, byte):
            "is not valid UTF-8 (byte 0x\(String(byte, radix: 16, uppercase: true)) at \(offset)); save the file as UTF-8, or upload it as "
                + "text/csv; charset=iso-8859-1 or windows-1252 if that is what it is"
        case let .undefined(offset, byte, charset):
            "holds byte 0x\(String(byte, radix: 16, uppercase: true)) at \(offset), which \(charset.rawValue) does not define"
        }
    }
}
