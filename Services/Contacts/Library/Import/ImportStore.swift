import Contracts
import Foundation
import Hummingbird
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
struct ImportStore: Sendable {
    let schema: SchemaName
    let client: PostgresClient
    let logger: Logger
    /// The upload is stored in pieces of this size.
    static let chunkSize = 1 << 20
    /// The largest file an upload may be (`SWITCHBOARD_IMPORT_MAX_BYTES`).
    var maximumBytes: Int64 = 2 << 30

    var jobs: String { schema.table("import_jobs") }
    var document: String { "\(schema.quoted).import_job_document(j)::text" }

    /// Stores the uploaded CSV as it streams in, counting its rows, and queues the job. A file
    /// whose header names no name column, or that ends inside a quoted field, is refused.
    func upload(
        _ body: RequestBody, filename: String?, mapping: [String: String], onDuplicate: DuplicatePolicy, createdBy: String?
    ) async throws -> Document {
        let id = UUID()
        var insert = SQLBuilder()
        insert.append("""
            INSERT INTO \(jobs) (id, status, filename, mapping, on_duplicate, created_by)
            VALUES (\(try insert.bind(id)), 'uploading', \(try insert.bind(filename)), \(try insert.bind(jsonText(mapping)))::jsonb,
                \(try insert.bind(onDuplicate.rawValue)), \(try insert.bind(createdBy)))
            """)
        try await client.query(insert.query, logger: logger)
        do {
            var parser = CSVParser()
            var header: [String]?
            var rows: Int64 = 0
            var bytes: Int64 = 0
            var pending = ByteBuffer()
            var sequence: Int32 = 0
            func count(_ records: [CSVParser.Record]) {
                for record in records {
                    if header == nil { header = record.fields } else { rows += 1 }
                }
            }
            for try await buffer in body {
                bytes += Int64(buffer.readableBytes)
                if bytes > maximumBytes {
                    throw Problem(.contentTooLarge, slug: "upload-too-large", detail: "an import file may be at most \(maximumBytes) bytes")
                }
                count(parser.feed(buffer.readableBytesView))
                var incoming = buffer
                pending.writeBuffer(&incoming)
                if pending.readableBytes >= Self.chunkSize {
                    try await storeChunk(pending, job: id, sequence: sequence)
                    sequence += 1
                    pending.clear()
                }
            }
            if parser.isInsideQuotes { throw Problem.validation([FieldError("file", "the file ends inside a quoted field")]) }
            count(parser.finish().map { [$0] } ?? [])
            if pending.readableBytes > 0 { try await storeChunk(pending, job: id, sequence: sequence) }
            guard let header else { throw Problem.validation([FieldError("file", "the file is empty; it needs a header row")]) }
            let layout = try ImportLayout(header: header, mapping: mapping)
            var queue = SQLBuilder()
            queue.append("""
                UPDATE \(jobs) AS j SET status = 'queued', bytes = \(try queue.bind(bytes)), rows_total = \(try queue.bind(rows)),
                    ignored_columns = \(try queue.bind(layout.ignored))::text[]
                WHERE id = \(try queue.bind(id)) RETURNING \(document)
                """)
            return try await client.texts(queue.query, logger: logger).first.map(Document.init)!
        } catch {
            var fail = SQLBuilder()
            let reason = (error as? Problem)?.detail ?? "the upload was interrupted: \(error)"
            fail.append("""
                UPDATE \(jobs) SET status = 'failed', error = \(try fail.bind(reason)), finished_at = now()
                WHERE id = \(try fail.bind(id))
                """)
            _ = try? await client.query(fail.query, logger: logger)
            var drop = SQLBuilder()
            drop.append("DELETE FROM \(schema.table("import_chunks")) WHERE job_id = \(try drop.bind(id))")
            _ = try? await client.query(drop.query, logger: logger)
            throw error
        }
    }

    private func storeChunk(_ data: ByteBuffer, job: UUID, sequence: Int32) async throws {
        var sql = SQLBuilder()
        sql.append("""
            INSERT INTO \(schema.table("import_chunks")) (job_id, seq, data)
            VALUES (\(try sql.bind(job)), \(try sql.bind(sequence)), \(try sql.bind(data)))
            """)
        try await client.query(sql.query, logger: logger)
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
        var sql = SQLBuilder()
        sql.append("SELECT \(document) FROM \(jobs) j WHERE j.id = \(try sql.bind(id))")
        return try await client.document(sql.query, notFound: "import \(id.lowercased)", logger: logger)
    }

    /// Newest first.
    func list(_ request: Request) async throws -> RawPage {
        var query = QueryReader(request)
        let limit = query.limit()
        let cursor = query.cursor([.timestamp, .uuid])
        try query.check()
        var sql = SQLBuilder()
        sql.append("SELECT \(document), ARRAY[\(schema.quoted).ts(j.created_at), j.id::text] FROM \(jobs) j")
        if let cursor {
            sql.append(" WHERE (j.created_at, j.id) < (\(try sql.bind(cursor.values[0]))::timestamptz, \(try sql.bind(cursor.values[1]))::uuid)")
        }
        sql.append(" ORDER BY j.created_at DESC, j.id DESC LIMIT \(limit + 1)")
        return try await client.page(sql.query, limit: limit, logger: logger)
    }

    /// The failed rows as CSV: row number (1 is the first row after the header), reason, and the
    /// row as it was in the file, streamed in pages.
    func errorReport(_ id: UUID) async throws -> Response {
        _ = try await get(id)
        let schema = schema, client = client, logger = logger
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "row,reason,raw\r\n"))
            var after: Int64 = 0
            while true {
                var sql = SQLBuilder()
                sql.append("""
                    SELECT row_number, reason, raw FROM \(schema.table("import_errors"))
                    WHERE job_id = \(try sql.bind(id)) AND row_number > \(try sql.bind(after)) ORDER BY row_number LIMIT 1000
                    """)
                var page = ""
                var count = 0
                for try await (row, reason, raw) in try await client.query(sql.query, logger: logger).decode((Int64, String, String).self) {
                    page += "\(row),\(CSVWriter.field(reason)),\(CSVWriter.field(raw))\r\n"
                    after = row
                    count += 1
                }
                if !page.isEmpty { try await writer.write(ByteBuffer(string: page)) }
                if count < 1000 { break }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"import-\(id.lowercased)-errors.csv\""],
            body: body
        )
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
