import Foundation
import ServiceKit

/// An `application/x-www-form-urlencoded` body, as a browser posts a form.
struct FormData: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    init(_ body: String) {
        for part in body.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(pieces[0])
            let value = pieces.count > 1 ? Self.decode(pieces[1]) : ""
            pairs.append((name, value))
        }
    }

    private static func decode(_ text: Substring) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
    }

    /// The first value of `name`, trimmed; nil when absent or empty.
    subscript(_ name: String) -> String? {
        guard let value = pairs.first(where: { $0.name == name })?.value.trimmed, !value.isEmpty else { return nil }
        return value
    }

    /// The first value of `name` exactly as typed (a password).
    func raw(_ name: String) -> String? { pairs.first(where: { $0.name == name })?.value }

    /// Every non-empty value of `name`, in order: the ticked boxes of a group of checkboxes.
    func all(_ name: String) -> [String] {
        pairs.filter { $0.name == name }.map(\.value.trimmed).filter { !$0.isEmpty }
    }
}
