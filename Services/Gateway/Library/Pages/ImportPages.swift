import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import NIOCore
import ServiceKit

/// Importing contacts from a CSV file and watching it run; exporting the filtered list. The upload
/// is a plain form with a file (the script adds the choice of a field for each column); the
/// job's page refreshes itself until the import has finished.
struct ImportPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI

    var renderer: PageRenderer { access.renderer }
    /// What the web form takes; the API (`POST /api/v1/imports`) streams files of any size.
    static let maximumUpload = 64 << 20
    static let columns = [
        "first_name", "last_name", "email", "phone", "position", "company", "account_id", "street", "city", "region", "postal_code",
        "country", "preferred_language", "lead_source", "purchase_purpose", "buying_priorities", "payment_method", "customer_type",
        "tags", "owner", "email_consent", "phone_consent", "sms_consent",
    ]

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/import") { _, _, visit in form(visit, error: nil) }
        router.post("/import") { request, context in
            // Multipart, so not the url-encoded form `page` reads: the CSRF token is a part of it.
            guard let token = access.token(request), let session = try await access.sessions.session(token) else {
                return access.failure(PageOutcome.signInNeeded, request: request, visit: nil)
            }
            let visit = WebAccess.Visit(session: session, form: FormData(""))
            do {
                let body = try await request.body.collect(upTo: Self.maximumUpload)
                guard let upload = MultipartForm(contentType: request.headers[.contentType] ?? "", body: Array(buffer: body)) else {
                    return form(visit, error: "The form did not arrive whole; choose the file and send it again.", status: .badRequest)
                }
                guard let sent = upload["_csrf"], SecretToken.same(sent, session.csrfToken) else {
                    return renderer.page("error", visit.values.merging(["heading": "The form has expired", "message": "Reload the page and send it again."]) { $1 }, status: .forbidden)
                }
                guard let file = upload.part("file"), !file.data.isEmpty else { return form(visit, error: "Choose a CSV file.", status: .unprocessableContent) }
                let answer = try await api.upload(
                    "/api/v1/imports",
                    query: [("filename", file.filename ?? "upload.csv"), ("on_duplicate", upload["on_duplicate"]), ("mapping", upload["mapping"])],
                    bytes: file.data, contentType: "text/csv", as: visit.caller
                )
                guard answer.ok, let id = answer.json["id"]?.string else {
                    return form(visit, error: answer.message, status: .unprocessableContent)
                }
                return Response(status: .seeOther, headers: [.location: "/import/\(id)"])
            } catch is NIOTooManyBytesError {
                return form(visit, error: "The file is larger than \(Self.maximumUpload >> 20) MB; import it through the API, which takes any size.", status: .contentTooLarge)
            } catch {
                return access.failure(error, request: request, visit: visit)
            }
        }
        access.page(router, .get, "/import/:id") { _, context, visit in
            let id = try context.uuidParameter("id").lowercased
            let job = try await api.get("/api/v1/imports/{id}", ["id": id], as: visit.caller)
            let status = job["status"]?.string ?? ""
            let (done, total) = (Int(job["rows_done"]?.number ?? 0), Int(job["rows_total"]?.number ?? 0))
            let finished = status == "completed" || status == "failed"
            let count = { (name: String) in Int(job[name]?.number ?? 0) }
            var values = visit.values
            values.merge(StaffPages.compact([
                "id": id, "filename": job["filename"]?.string ?? "the file", "status": status, "running": !finished,
                "done": done, "total": max(total, done, 1), "percent": finished && status == "completed" ? 100 : (total > 0 ? done * 100 / total : 0),
                "created": count("created"), "updated": count("updated"), "skipped": count("skipped"), "failed": count("failed"),
                "error": job["error"]?.string, "hasErrors": count("failed") > 0,
                "ignored": (job["ignored_columns"]?.array ?? []).compactMap(\.string).joined(separator: ", ").nonEmpty,
            ])) { $1 }
            return renderer.page("import-job", values)
        }
        access.page(router, .get, "/import/:id/errors.csv") { _, context, visit in
            try await api.stream("/api/v1/imports/{id}/errors", ["id": try context.uuidParameter("id").lowercased], as: visit.caller)
        }
        access.page(router, .get, "/contacts/export") { request, _, visit in
            let query = StaffPages.contactFilters.map { ($0, request.uri.queryParameters.get($0)?.trimmed.nonEmpty) }
            return try await api.stream("/api/v1/contacts/export", query: query, as: visit.caller)
        }
    }

    private func form(_ visit: WebAccess.Visit, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        var values = visit.values
        values["columns"] = Self.columns
        if let error { values["error"] = error }
        return renderer.page("import", values, status: status)
    }
}
