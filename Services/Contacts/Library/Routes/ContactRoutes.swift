import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import ServiceKit

/// The contacts service's HTTP API; the gateway serves it to the public under the same paths.
extension ContactsStores {
    func register(on router: Router<ServiceRequestContext>) {
        let api = router.group("/api/v1")
        api.get("/contacts") { request, _ in
            try await contacts.list(try await contacts.staff.filter(ContactFilter(request))).response()
        }
        api.post("/contacts") { request, context in
            let body = try await request.jsonBody(context: context)
            let fields = try APICoding.decode(ContactFields.self, from: body)
            let flags = try APICoding.decode(WriteFlags.self, from: body)
            let created = try await contacts.create(fields, allowDuplicate: request.flag("allow_duplicate") || flags.allowDuplicate == true)
            return try created.response(status: .created, location: "/api/v1/contacts/")
        }
        api.get("/contacts/export") { request, _ in
            var filter = try await contacts.staff.filter(ContactFilter(request))
            filter.page.cursor = nil
            return try await export.csv(filter).attachment(contentType: "text/csv; charset=utf-8", filename: "contacts.csv")
        }
        api.post("/imports") { request, _ in
            var query = QueryReader(request)
            let policy = query.oneOf("on_duplicate", DuplicatePolicy.self) ?? .skip
            var mapping: [String: String] = [:]
            if let text = query.string("mapping") {
                if let decoded = try? JSONDecoder().decode([String: String].self, from: Data(text.utf8)) {
                    mapping = decoded
                } else {
                    query.fail("mapping", "must be a JSON object from the file's header to an import column, such as {\"Nachname\": \"last_name\"}")
                }
            }
            try query.check()
            let charset = try ImportStore.charset(of: request.headers[.contentType])
            if let declared = request.headers[.contentLength].flatMap(Int64.init), declared > imports.maximumBytes {
                var tooLarge = ContactsError.uploadTooLarge(maximumBytes: imports.maximumBytes).problem
                tooLarge.headers["Connection"] = "close"
                throw tooLarge
            }
            let job = try await imports.upload(
                request.body, filename: query.string("filename"), charset: charset, mapping: mapping, onDuplicate: policy,
                createdBy: request.headers[HTTPField.Name("X-Switchboard-Caller")!], requestKey: RequestLedger.key(of: request)
            )
            return try job.response(status: .accepted, location: "/api/v1/imports/")
        }
        api.get("/imports") { request, _ in
            try await imports.list(QueryReader.page(of: request, [.timestamp, .uuid])).response()
        }
        api.get("/imports/:id") { _, context in
            try await imports.get(try context.uuidParameter("id")).response()
        }
        api.get("/imports/:id/errors") { _, context in
            let id = try context.uuidParameter("id")
            return try await imports.errorReport(id).attachment(contentType: "text/csv; charset=utf-8", filename: "import-\(id.lowercased)-errors.csv")
        }
        api.get("/contacts/duplicates") { request, _ in
            try await merges.duplicateGroups(QueryReader.page(of: request, [.text, .text], maximum: 500)).response()
        }
        api.post("/contacts/merge") { request, context in
            let merge = try await request.decodeJSON(MergeRequest.self, context: context)
            return try await merges.merge(merge).response()
        }
        api.get("/contacts/:id") { _, context in
            let (document, resolvedFrom) = try await contacts.get(try context.uuidParameter("id"))
            var response = try document.response()
            if resolvedFrom != nil, let id = try? document.decode(Contact.self).id {
                response.headers[.contentLocation] = "/api/v1/contacts/\(id.lowercased)"
            }
            return response
        }
        api.patch("/contacts/:id") { request, context in
            let id = try context.uuidParameter("id")
            let body = try await request.jsonBody(context: context)
            let flags = try APICoding.decode(WriteFlags.self, from: body)
            let version = try request.expectedVersion(bodyVersion: flags.version)
            let updated = try await contacts.update(
                id, patch: try APICoding.decode(JSONValue.self, from: body).removing(WriteFlags.members), expectedVersion: version,
                allowDuplicate: request.flag("allow_duplicate") || flags.allowDuplicate == true
            )
            return try updated.response()
        }
        api.delete("/contacts/:id") { request, context in
            let id = try context.uuidParameter("id")
            try await contacts.delete(id, expectedVersion: request.headers[.ifMatch] == nil ? nil : try request.expectedVersion(bodyVersion: nil))
            return Response(status: .noContent)
        }
        // For the gateway's customer overview (not a public route).
        api.get("/contacts/:id/summary") { _, context in
            let id = try context.uuidParameter("id")
            let (text, survivor) = try await interactions.summary(of: id, limit: 10)
            var response = APICoding.rawResponse(text)
            if survivor != id { response.headers[.contentLocation] = "/api/v1/contacts/\(survivor.lowercased)" }
            return response
        }
        api.get("/contacts/:id/interactions") { request, context in
            let id = try context.uuidParameter("id")
            var query = QueryReader(request)
            let channel = query.oneOf("channel", Channel.self)
            let page = query.page([.timestamp, .uuid])
            try query.check()
            return try await interactions.timeline(contactId: id, channel: channel, page: page).response()
        }
        api.get("/interactions") { request, _ in
            var query = QueryReader(request)
            let who = query.string("recorded_by") ?? ""
            let page = query.page([.timestamp, .uuid])
            if who.isEmpty { query.fail("recorded_by", "is required: whose interactions") }
            try query.check()
            return try await interactions.recorded(by: who, page: page).response()
        }
        api.post("/contacts/:id/interactions") { request, context in
            let id = try context.uuidParameter("id")
            let input = try await request.decodeJSON(InteractionFields.self, context: context)
            return try await interactions.log(input, contactId: id).response(status: .created)
        }

        api.get("/accounts") { request, _ in
            try await accounts.list(try await contacts.staff.filter(AccountFilter(request))).response()
        }
        api.post("/accounts") { request, context in
            let input = try await request.decodeJSON(AccountFields.self, context: context)
            return try await accounts.create(input).response(status: .created, location: "/api/v1/accounts/")
        }
        api.get("/accounts/:id") { _, context in
            try await accounts.get(try context.uuidParameter("id")).response()
        }
        api.patch("/accounts/:id") { request, context in
            let id = try context.uuidParameter("id")
            let body = try await request.jsonBody(context: context)
            let version = try request.expectedVersion(bodyVersion: try APICoding.decode(WriteFlags.self, from: body).version)
            let patch = try APICoding.decode(JSONValue.self, from: body).removing(WriteFlags.members)
            return try await accounts.update(id, patch: patch, expectedVersion: version).response()
        }
        api.delete("/accounts/:id") { request, context in
            let id = try context.uuidParameter("id")
            try await accounts.delete(id, expectedVersion: request.headers[.ifMatch] == nil ? nil : try request.expectedVersion(bodyVersion: nil))
            return Response(status: .noContent)
        }
        api.get("/accounts/:id/contacts") { request, context in
            let id = try context.uuidParameter("id")
            _ = try await accounts.get(id)
            var filter = try await contacts.staff.filter(ContactFilter(request))
            filter.accountId = id
            return try await contacts.list(filter).response()
        }

        api.get("/custom-fields") { _, _ in
            try await customFields.list().response()
        }
        api.post("/custom-fields") { request, context in
            let definition = try await request.decodeJSON(CustomFieldDefinition.self, context: context)
            return APICoding.rawResponse(try await customFields.create(definition), status: .created)
        }
        api.delete("/custom-fields/:id") { _, context in
            try await customFields.delete(try context.uuidParameter("id"))
            return Response(status: .noContent)
        }
    }
}

/// Members of a write body that steer the write rather than being fields of the resource.
struct WriteFlags: Decodable {
    static let members = ["version", "allow_duplicate"]
    var version: Int64?
    var allowDuplicate: Bool?

    enum CodingKeys: String, CodingKey {
        case version
        case allowDuplicate = "allow_duplicate"
    }
}

extension JSONValue {
    func removing(_ names: [String]) -> JSONValue {
        guard case var .object(members) = self else { return self }
        for name in names { members[name] = nil }
        return .object(members)
    }
}
