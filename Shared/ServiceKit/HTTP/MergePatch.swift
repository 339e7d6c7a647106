import Messaging

/// RFC 7396 JSON merge patch: members of `patch` replace those of `target`, `null` removes one,
/// objects merge recursively. An update applies it to the resource's current JSON and decodes the
/// result, so "absent" and "null" mean what they should without an optional-of-optional per field.
public enum MergePatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case let .object(members) = patch else { return patch }
        var result: [String: JSONValue]
        if case let .object(existing) = target { result = existing } else { result = [:] }
        for (name, value) in members {
            if value == .null {
                result[name] = .null
            } else {
                result[name] = apply(value, to: result[name] ?? .null)
            }
        }
        return .object(result)
    }
}
