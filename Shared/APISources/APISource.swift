import Foundation
import Yams

/// The API contracts as the repository keeps them: `Services/common.openapi.yaml`, each service's
/// `Services/<Folder>/openapi.yaml` and `asyncapi.yaml`, read from a checkout (the bundle command
/// and the tests read them; no service does at run time).
public struct APISource: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    public static let common = "Services/common.openapi.yaml"

    public static func openAPI(_ folder: String) -> String { "Services/\(folder)/openapi.yaml" }
    public static func asyncAPI(_ folder: String) -> String { "Services/\(folder)/asyncapi.yaml" }

    public func exists(_ file: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path)
    }

    /// A YAML (or JSON) file of the repository as a mapping.
    public func load(_ file: String) throws -> [String: Any] {
        let text: String
        do { text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8) } catch {
            throw APISourceError("\(file) cannot be read: \(error)")
        }
        guard let document = try Yams.load(yaml: text) as? [String: Any] else { throw APISourceError("\(file) is not a mapping") }
        return document
    }

    /// The operations a document describes, as `get /api/v1/contacts/{id}`; `includingInternal` says
    /// whether those marked `x-internal` (reads only the gateway makes) count.
    public static func operations(of document: [String: Any], includingInternal: Bool = true) -> Set<String> {
        var operations = Set<String>()
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for (method, value) in item as? [String: Any] ?? [:] where httpMethods.contains(method) {
                if !includingInternal, (value as? [String: Any])?["x-internal"] as? Bool == true { continue }
                operations.insert("\(method) \(path)")
            }
        }
        return operations
    }

    static let httpMethods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Every `$ref` in `document` (read from `file`) that names nothing: a missing file, or a
    /// pointer into one that leads nowhere.
    public func unresolvedReferences(in document: [String: Any], of file: String) throws -> [String] {
        var unresolved: [String] = []
        var loaded: [String: [String: Any]] = [file: document]
        let folder = (file as NSString).deletingLastPathComponent
        for reference in Self.references(in: document) {
            let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let target = parts[0].isEmpty ? file : ((folder as NSString).appendingPathComponent(parts[0]) as NSString).standardizingPath
            if loaded[target] == nil {
                guard exists(target) else { unresolved.append(reference); continue }
                loaded[target] = try load(target)
            }
            let pointer = parts.count > 1 ? parts[1] : ""
            if Self.resolve(pointer, in: loaded[target]!) == nil { unresolved.append(reference) }
        }
        return unresolved.sorted()
    }

    static func references(in value: Any) -> [String] {
        switch value {
        case let object as [String: Any]:
            return object.flatMap { key, member in
                key == "$ref" ? [member as? String].compactMap { $0 } : references(in: member)
            }
        case let array as [Any]:
            return array.flatMap(references(in:))
        default:
            return []
        }
    }

    /// A JSON pointer (`/components/schemas/Contact`) in a document.
    static func resolve(_ pointer: String, in document: [String: Any]) -> Any? {
        var current: Any = document
        for token in pointer.split(separator: "/") {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let object = current as? [String: Any], let next = object[key] else { return nil }
            current = next
        }
        return current
    }
}

/// A contract source that is missing, malformed or contradicts another.
public struct APISourceError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
