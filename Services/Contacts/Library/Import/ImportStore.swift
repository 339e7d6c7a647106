import Contracts
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceKit
import Storage

/// What an import does with a row whose e-mail or phone matches a contact already there.
enum DuplicatePolicy: String, APIEnum {
    /// Count it as skipped and leave the contact as it is.
    case skip
    /// Write the row's non-empty fields onto the contact.
    case update
}

/// Import jobs: the upload, its progress and its error report.
struct ImportStore: ServiceStore {
    let service: ServiceDependencies
    /// The upload is stored in pieces of this size.
    static let chunkSize = 1 << 20
    /// The largest file an upload may be (`SWITCHBOARD_IMPORT_MAX_BYTES`).
    var maximumBytes: Int64 = 2 << 30

    var jobs: String { schema.table("import_jobs") }

    /// The charset an upload names (`text/csv; charset=…`), UTF-8 when it names none; a media
    /// type other than CSV, or a charset the import cannot read, is a 415.
    static func charset(of contentType: String?) throws -> CSVCharset {
        guard let contentType else { return .utf8 }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        let media = parts.first?.lowercased() ?? ""
        guard media == "text/csv" || media == "application/octet-stream" else {
            throw ContactsError.unsupportedMediaType(contentType)
        }
        guard let label = parts.dropFirst().first(where: { $0.lowercased().hasPrefix("charset=") })?.dropFirst("charset=".count) else {
            return .utf8
        }
        guard let charset = CSVCharset(label: String(label)) else {
            throw ContactsError.unsupportedCharset(String(label))
        }
        return charset
    }
    var document: String { "\(schema.quoted).import_job_document(j)::text" }

    /// Stores the uploaded CSV as it streams in, counting its rows, and queues the job. A file
    /// whose header names no name column, or that ends inside a quoted field, is refused. With a
    /// `requestKey` (an idempotent request) an upload that already made its job answers that job,
    /// unread.
    func upload(
        _ body: some AsyncSequence<ByteBuffer, any Error>, filename: String?, charset: CSVCharset = .utf8, mapping: [String: String], onDuplicate: DuplicatePolicy,
        createdBy: String?, requestKey: String? = nil
    ) async throws -> Document {
        if let requestKey, let earlier = try await job(requestKey: requestKey) { return earlier }
        let id = UUID()
        var insert = SQLBuilder()
        insert.append("""
            INSERT INTO \(jobs) (id, status, filename, charset, mapping, on_duplicate, created_by, request_key)
            VALUES (\(try insert.bind(id)), 'uploading', \(try insert.bind(filename)), \(try insert.bind(charset.rawValue)),
                \(try insert.bind(jsonText(mapping)))::jsonb, \(try insert.bind(onDuplicate.rawValue)), \(try insert.bind(createdBy)),
                \(try insert.bind(requestKey)))
            ON CONFLICT (request_key) DO NOTHING RETURNING 1
            """)
        guard try await !client.write(insert.query, logger: logger).isEmpty else {
            throw ContactsError.uploadInProgress
        }
        do {
            var parser = CSVParser(charset: charset)
            var header: [String]?
            var rows: Int64 = 0
            var bytes: Int64 = 0
            var pending = ByteBuffer()
            var sequence: Int32 = 0
            func count(_ records: [CSVParser.Record]) throws {
                for record in records {
                    guard header == nil else {
                        rows += 1
                        continue
                    }
                    if let (field, error) = record.invalid {
                        throw ContactsError.invalid("file", "the header's column \(field + 1) \(error.reason)")
                    }
                    header = record.fields
                }
            }
            for try await buffer in body {
                bytes += Int64(buffer.readableBytes)
                if bytes > maximumBytes {
                    throw ContactsError.uploadTooLarge(maximumBytes: maximumBytes)
                }
                try count(parser.feed(buffer.readableBytesView))
                var incoming = buffer
                pending.writeBuffer(&incoming)
                if pending.readableBytes >= Self.chunkSize {
                    try await storeChunk(pending, job: id, sequence: sequence)
                    sequence += 1
                    pending.clear()
                }
            }
            if parser.isInsideQuotes { throw ContactsError.invalid("file", "the file ends inside a quoted field") }
            try count(parser.finish().map { [$0] } ?? [])
            if pending.readableBytes > 0 { try await storeChunk(pending, job: id, sequence: sequence) }
            guard let header else { throw ContactsError.invalid("file", "the file is empty; it needs a header row") }
            let layout = try ImportLayout(header: header, mapping: mapping)
            var queue = SQLBuilder()
            queue.append("""
                UPDATE \(jobs) AS j SET status = 'queued', bytes = \(try queue.bind(bytes)), rows_total = \(try queue.bind(rows)),
                    ignored_columns = \(try queue.bind(layout.ignored))::text[]
                WHERE id = \(try queue.bind(id)) AND status = 'uploading' RETURNING \(document)
                """)
            guard let queued = try await client.write(queue.query, logger: logger).first else {
                throw ContactsError.uploadAbandoned
            }
            return Document(text: queued)
        } catch {
            var fail = SQLBuilder()
            let reason = (error as? ContactsError)?.description ?? "the upload was interrupted: \(error)"
            fail.append("""
                UPDATE \(jobs) SET status = 'failed', error = \(try fail.bind(reason)), finished_at = now()
                WHERE id = \(try fail.bind(id))
                """)
            var drop = SQLBuilder()
            drop.append("DELETE FROM \(schema.table("import_chunks")) WHERE job_id = \(try drop.bind(id))")
            let (failed, dropped) = (fail.query, drop.query)
            // If this fails too (the database is gone), the hourly sweep fails the job.
            _ = try? await client.transaction(logger: logger) { [logger] connection in
                try await connection.query(failed, logger: logger)
                try await connection.query(dropped, logger: logger)
            }
            throw error
        }
    }

    /// The job an earlier upload with `requestKey` made: answered again if it got as far as being
    /// queued; forgotten if its upload failed, so that this one runs; `uploadInProgress` while it still uploads.
    private func job(requestKey: String) async throws -> Document? {
        var sql = SQLBuilder()
        sql.append("SELECT j.status, \(document) FROM \(jobs) j WHERE j.request_key = \(try sql.bind(requestKey))")
        let statement = sql.query
        let found = try await client.read(logger: logger) { [logger] connection -> (String, String)? in
            for try await row in try await connection.query(statement, logger: logger).decode((String, String).self) { return row }
            return nil
        }
        guard let (status, text) = found else { return nil }
        switch status {
        case "uploading":
            throw ContactsError.uploadInProgress
        case "failed" where (try? Document(text: text).decode(UploadState.self))?.rowsTotal == nil:
            var release = SQLBuilder()
            release.append("UPDATE \(jobs) SET request_key = NULL WHERE request_key = \(try release.bind(requestKey)) AND status = 'failed'")
            _ = try await client.write(release.query, logger: logger)
            return nil
        default:
            return Document(text: text)
        }
    }

    private struct UploadState: Decodable {
        var rowsTotal: Int64?
        enum CodingKeys: String, CodingKey { case rowsTotal = "rows_total" }
    }

    private func storeChunk(_ data: ByteBuffer, job: UUID, sequence: Int32) async throws {
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(schema.table("import_chunks")) (job_id, seq, data)
            VALUES (\(try sql.bind(job)), \(try sql.bind(sequence)), \(try sql.bind(data)))
            """)
        _ = try await client.write(sql.query, logger: logger)
    }

    /// Uploads that never finished (their connection, or the service, died) are failed and their
    /// chunks dropped after an hour.
    func sweepAbandonedUploads() async throws {
        try await client.transaction(logger: logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: """
                DELETE FROM \(schema.table("import_chunks")) WHERE job_id IN (
                    SELECT id FROM \(jobs) WHERE status = 'uploading' AND created_at < now() - interval '1 hour')
                """), logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: """
                UPDATE \(jobs) SET status = 'failed', error = 'the upload did not finish', finished_at = now()
                WHERE status = 'uploading' AND created_at < now() - interval '1 hour'
                """), logger: logger)
        }
    }

    func get(_ id: UUID) async throws -> Document {
        try await client.document(
            document, from: jobs, as: "j", id: id, orThrow: ContactsError.notFound("import \(id.lowercased)"), logger: logger
        )
    }

    /// Newest first.
    func list(_ page: PageRequest) async throws -> RawPage {
        var sql = SQLBuilder()
        sql.append("SELECT \(document), ARRAY[\(schema.quoted).ts(j.created_at), j.id::text] FROM \(jobs) j")
        try sql.appendPage(page, in: .creation("j", descending: true), connective: " WHERE ")
        return try await client.page(sql.query, limit: page.limit, logger: logger)
    }

    /// The failed rows as CSV: row number (1 is the first row after the header), reason, and the
    /// row as it was in the file, streamed in pages.
    func errorReport(_ id: UUID) async throws -> StreamedText {
        _ = try await get(id)
        let schema = schema, client = client, logger = logger
        return StreamedText { emit in
            try await emit("row,reason,raw\r\n")
            var after: Int64 = 0
            while true {
                var sql = SQLBuilder()
                sql.append("""
                    SELECT row_number, reason, raw FROM \(schema.table("import_errors"))
                    WHERE job_id = \(try sql.bind(id)) AND row_number > \(try sql.bind(after)) ORDER BY row_number LIMIT 1000
                    """)
                let statement = sql.query
                let (page, count, last) = try await client.read(logger: logger) { connection in
                    var page = ""
                    var count = 0
                    var last: Int64 = 0
                    for try await (row, reason, raw) in try await connection.query(statement, logger: logger).decode((Int64, String, String).self) {
                        page += "\(row),\(CSVWriter.field(reason)),\(CSVWriter.field(raw))\r\n"
                        last = row
                        count += 1
                    }
                    return (page, count, last)
                }
                if count > 0 { after = last }
                if !page.isEmpty { try await emit(page) }
                if count < 1000 { break }
            }
        }
    }
}

/// CSV output: a field is quoted when it holds a comma, quote or line break, and neutralised
/// against spreadsheet formulas (`SpreadsheetSafety`).
enum CSVWriter {
    static func field(_ value: String) -> String {
        let text = SpreadsheetSafety.neutralized(value)
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }
}
