import Foundation
import HTTPTypes
import Hummingbird
import Messaging

extension RequestContext {
    /// A UUID path parameter; anything else is a 400 naming the parameter.
    public func uuidParameter(_ name: String) throws(Problem) -> UUID {
        guard let text = parameters.get(name), let id = UUID(uuidString: text) else {
            throw Problem.badRequest("the path's \(name) is not a UUID", field: name)
        }
        return id
    }
}

extension Request {
    /// The version an update expects: `If-Match` (`"3"`, `W/"3"` or `3`), else `version` in the body.
    /// Neither is a 428: an update without one would overwrite whatever another client wrote.
    public func expectedVersion(bodyVersion: Int64?) throws(Problem) -> Int64 {
        if let header = headers[.ifMatch] {
            let digits = header.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            guard let version = Int64(digits) else {
                throw Problem.badRequest("If-Match must be the ETag of the version read, such as \"3\"", field: "If-Match")
            }
            return version
        }
        if let bodyVersion { return bodyVersion }
        throw Problem(
            .preconditionRequired, slug: "version-required",
            detail: "send the version you read, as If-Match: \"<version>\" or as \"version\" in the body"
        )
    }

    /// The id of the user (or portal caller) the gateway says is calling: the first word of
    /// `X-Switchboard-Caller: <id> <role>`, which only the gateway sets (`GatewayCredential`).
    public var callerId: String? {
        headers[HTTPField.Name("X-Switchboard-Caller")!].flatMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// A boolean query parameter given as true/false/1/0.
    public func flag(_ name: String) -> Bool {
        guard let value = uri.queryParameters[name[...]] else { return false }
        return ["true", "1", "yes"].contains(value.lowercased())
    }
}

/// The ETag of a resource version.
public func entityTag(_ version: Int64) -> String { "\"\(version)\"" }

extension Request {
    /// A PATCH's JSON merge patch, without its `version` member, and the version it expects
    /// (`If-Match`, else that member; neither is a 428).
    public func mergePatch(context: some RequestContext) async throws -> (patch: JSONValue, expectedVersion: Int64) {
        let body = try await jsonBody(context: context)
        var patch = try APICoding.decode(JSONValue.self, from: body)
        var bodyVersion: Int64?
        if case var .object(members) = patch {
            switch members["version"] {
            case nil, .null?: break
            case let .number(number)? where Int64(exactly: number) != nil: bodyVersion = Int64(exactly: number)
            default: throw Problem.validation([FieldError("version", "must be the integer version you read")])
            }
            members["version"] = nil
            patch = .object(members)
        }
        return (patch, try expectedVersion(bodyVersion: bodyVersion))
    }
}
