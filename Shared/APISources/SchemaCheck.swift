import Foundation

/// Checks a value read from YAML or JSON (by `APISource.load`) against a schema of the
/// contracts, following `$ref`s across their files: the subset of JSON Schema they use (`type`,
/// `required`, `properties`, `additionalProperties`, `items`, `enum`, `const`, `pattern`,
/// `allOf`, `oneOf`, `anyOf`, and the formats uuid, date and date-time). The contract tests hold
/// the golden event fixtures to the AsyncAPI files with it.
public struct SchemaCheck {
    let source: APISource
    var documents: [String: [String: Any]] = [:]

    public init(_ source: APISource) { self.source = source }

    /// What in `value` the schema at `reference` (`Services/Sales/asyncapi.yaml#/components/…`)
    /// does not allow, each with the path to it; empty when it conforms.
    public mutating func violations(of value: Any, against reference: String) throws -> [String] {
        let (schema, file) = try resolve(reference, from: "")
        return try violations(value, schema, file, path: "$")
    }

    mutating func resolve(_ reference: String, from file: String) throws -> ([String: Any], String) {
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let folder = (file as NSString).deletingLastPathComponent
        let target = parts[0].isEmpty ? file : ((folder as NSString).appendingPathComponent(parts[0]) as NSString).standardizingPath
        if documents[target] == nil { documents[target] = try source.load(target) }
        guard let schema = APISource.resolve(parts.count > 1 ? parts[1] : "", in: documents[target]!) as? [String: Any] else {
            throw APISourceError("\(reference) (from \(file)) names no schema")
        }
        return (schema, target)
    }

    mutating func violations(_ value: Any, _ schema: [String: Any], _ file: String, path: String) throws -> [String] {
        if let reference = schema["$ref"] as? String {
            let (target, targetFile) = try resolve(reference, from: file)
            return try violations(value, target, targetFile, path: path)
        }
        var found: [String] = []
        for part in schema["allOf"] as? [[String: Any]] ?? [] {
            found += try violations(value, part, file, path: path)
        }
        for (keyword, exactlyOne) in [("oneOf", true), ("anyOf", false)] {
            guard let choices = schema[keyword] as? [[String: Any]] else { continue }
            let matching = try choices.filter { try violations(value, $0, file, path: path).isEmpty }.count
            if exactlyOne ? matching != 1 : matching == 0 { found.append("\(path): matches \(matching) of its \(keyword) schemas") }
        }
        if let types = schema["type"].map({ $0 as? [String] ?? [$0 as? String].compactMap { $0 } }), !types.contains(where: { Self.isOfType(value, $0) }) {
            return found + ["\(path): \(Self.describe(value)) is not \(types.joined(separator: " or "))"]
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { Self.equal($0, value) }) {
            found.append("\(path): \(Self.describe(value)) is not one of \(allowed)")
        }
        if let constant = schema["const"], !Self.equal(constant, value) { found.append("\(path): \(Self.describe(value)) is not \(constant)") }
        if let text = value as? String { found += Self.stringViolations(text, schema, path: path) }
        if let object = value as? [String: Any] {
            for name in schema["required"] as? [String] ?? [] where object[name] == nil { found.append("\(path): lacks \(name)") }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (name, member) in object {
                if let property = properties[name] as? [String: Any] {
                    found += try violations(member, property, file, path: "\(path).\(name)")
                } else if let extra = schema["additionalProperties"] as? [String: Any] {
                    found += try violations(member, extra, file, path: "\(path).\(name)")
                } else if schema["additionalProperties"] as? Bool == false {
                    found.append("\(path): has \(name), which its schema does not name")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() { found += try violations(element, items, file, path: "\(path)[\(index)]") }
        }
        return found
    }

    static func stringViolations(_ text: String, _ schema: [String: Any], path: String) -> [String] {
        var found: [String] = []
        if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
            found.append("\(path): '\(text)' does not match \(pattern)")
        }
        let formats = [
            "uuid": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            "date": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            "date-time": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
        ]
        if let format = schema["format"] as? String, let pattern = formats[format], text.range(of: pattern, options: .regularExpression) == nil {
            found.append("\(path): '\(text)' is not a \(format)")
        }
        return found
    }

    static func isOfType(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "string": value is String
        case "boolean": value is Bool
        case "integer": value is Int
        case "number": (value is Int || value is Double) && !(value is Bool)
        case "null": value is NSNull
        case "object": value is [String: Any]
        case "array": value is [Any]
        default: false
        }
    }

    static func equal(_ left: Any, _ right: Any) -> Bool {
        switch (left, right) {
        case let (left as String, right as String): left == right
        case let (left as Bool, right as Bool): left == right
        case let (left as Int, right as Int): left == right
        case (is NSNull, is NSNull): true
        default: false
        }
    }

    static func describe(_ value: Any) -> String {
        switch value {
        case let text as String: "'\(text)'"
        case is NSNull: "null"
        case is [String: Any]: "an object"
        case is [Any]: "an array"
        default: "\(value)"
        }
    }
}
