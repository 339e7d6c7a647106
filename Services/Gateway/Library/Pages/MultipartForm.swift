import Foundation

/// A `multipart/form-data` body, as a browser posts a form with a file: its parts by name.
struct MultipartForm: Sendable {
    struct Part: Sendable {
        var name: String
        var filename: String?
        var data: [UInt8]

        var text: String { String(decoding: data, as: UTF8.self) }
    }

    var parts: [Part] = []

    /// Nil when the content type names no boundary or the body does not hold it.
    init?(contentType: String, body: [UInt8]) {
        guard let boundaryRange = contentType.range(of: "boundary=") else { return nil }
        var boundary = String(contentType[boundaryRange.upperBound...].prefix { $0 != ";" })
        if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 { boundary = String(boundary.dropFirst().dropLast()) }
        let delimiter = Array("--\(boundary)".utf8)
        var index = Self.find(delimiter, in: body, from: 0)
        guard index != nil else { return nil }
        while let start = index {
            var cursor = start + delimiter.count
            // "--" after a delimiter ends the body.
            if cursor + 1 < body.count, body[cursor] == UInt8(ascii: "-"), body[cursor + 1] == UInt8(ascii: "-") { break }
            if cursor + 1 < body.count, body[cursor] == 13, body[cursor + 1] == 10 { cursor += 2 }
            guard let headerEnd = Self.find([13, 10, 13, 10], in: body, from: cursor) else { return nil }
            let headers = String(decoding: body[cursor..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = Self.find([13, 10] + delimiter, in: body, from: contentStart) else { return nil }
            if let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition:") }) {
                let name = Self.parameter("name", of: String(disposition))
                if let name { parts.append(Part(name: name, filename: Self.parameter("filename", of: String(disposition)), data: Array(body[contentStart..<next]))) }
            }
            index = next + 2
        }
    }

    func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// A text field, trimmed; nil when absent or empty.
    subscript(_ name: String) -> String? {
        guard let value = part(name)?.text.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    private static func parameter(_ name: String, of header: String) -> String? {
        guard let range = header.range(of: "; \(name)=\"") ?? header.range(of: ";\(name)=\"") else { return nil }
        return String(header[range.upperBound...].prefix { $0 != "\"" })
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
