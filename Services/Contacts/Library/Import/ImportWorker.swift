import Contracts
import Foundation
import Logging
import Messaging
import NIOCore
import PostgresNIO
import ServiceKit
import ServiceLifecycle
import StaffReplica
import Storage

/// Works queued imports: claims one under a lease, reads its stored file from where it stopped,
/// and writes rows in batches, each batch one transaction with its contacts, their events, the
/// failed rows and the job's progress. A job whose worker died (its lease ran out) is resumed by
/// any replica from the last committed batch; on shutdown the worker stops between batches.
final class ImportWorker: Service, ServiceStore {
    let service: ServiceDependencies
    let contacts: ContactStore
    let batchSize: Int
    static let lease = "60 seconds"

    init(service: ServiceDependencies, contacts: ContactStore, batchSize: Int = 500) {
        self.service = service
        self.contacts = contacts
        self.batchSize = batchSize
    }

    struct Job: Sendable {
        var id: UUID
        /// This worker's claim: progress commits only while the job still carries it.
        var token: UUID
        var mapping: [String: String]
        var charset: CSVCharset
        var onDuplicate: DuplicatePolicy
        var rowsDone: Int64
    }

    func run() async throws {
        var lastSweep = ContinuousClock.now - .seconds(3600)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if ContinuousClock.now - lastSweep > .seconds(600) {
                    lastSweep = ContinuousClock.now
                    try await ImportStore(service: service).sweepAbandonedUploads()
                }
                if let job = try await claim() {
                    try await work(job)
                    continue
                }
            } catch {
                logger.error("import failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }
        }
    }

    private var jobs: String { schema.table("import_jobs") }

    private func claim() async throws -> Job? {
        let query = PostgresQuery(unsafeSQL: """
            UPDATE \(jobs) SET status = 'running', lease_until = now() + interval '\(Self.lease)', lease_token = gen_random_uuid(),
                started_at = coalesce(started_at, date_trunc('milliseconds', now()))
            WHERE id = (SELECT id FROM \(jobs) WHERE status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < now())
                        ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id::text, lease_token::text, mapping::text, charset, on_duplicate, rows_done
            """)
        return try await client.transaction(logger: logger) { [logger] connection -> Job? in
            for try await (id, token, mapping, charset, policy, done) in try await connection.query(query, logger: logger)
                .decode((String, String, String, String, String, Int64).self)
            {
                return Job(
                    id: UUID(uuidString: id)!, token: UUID(uuidString: token)!,
                    mapping: try JSONDecoder().decode([String: String].self, from: Data(mapping.utf8)),
                    charset: CSVCharset(rawValue: charset) ?? .utf8, onDuplicate: DuplicatePolicy(rawValue: policy) ?? .skip, rowsDone: done
                )
            }
            return nil
        }
    }

    /// Works the job; on a failure the lease is given back, so this or another replica retries soon.
    private func work(_ job: Job) async throws {
        do {
            try await workLeased(job)
        } catch is JobStopped {
            logger.info("import stopped: its status changed while it ran", metadata: ["job": "\(job.id)"])
        } catch {
            try? await release(job)
            throw error
        }
    }

    private func workLeased(_ job: Job) async throws {
        logger.info("import started", metadata: ["job": "\(job.id)", "resume_after_row": "\(job.rowsDone)"])
        let definitions = try await client.read(logger: logger) { [schema, logger] connection in
            try await CustomFieldStore.definitions(schema: schema, on: connection, logger: logger)
        }
        var parser = CSVParser(charset: job.charset)
        var layout: ImportLayout?
        var rowNumber: Int64 = 0
        var batch: [(number: Int64, record: CSVParser.Record)] = []
        var sequence: Int32 = 0
        // One batch commits while the next is parsed and checked: the checking is this process's
        // CPU and the commit is the database's, so neither waits for the other. Commits stay in
        // file order, one at a time, so `rows_done` always names a prefix of the file.
        var committing: Task<Void, any Error>?

        func send(_ rows: [(number: Int64, record: CSVParser.Record)], layout: ImportLayout) async throws {
            let prepared = prepare(rows, layout: layout, definitions: definitions)
            try await Self.finish(committing)
            try Task.checkCancellation()
            committing = Task { try await self.commit(prepared, of: job) }
        }

        func take(_ records: [CSVParser.Record]) async throws -> Bool {
            for record in records {
                guard let currentLayout = layout else {
                    layout = try ImportLayout(header: record.fields, mapping: job.mapping)
                    continue
                }
                rowNumber += 1
                guard rowNumber > job.rowsDone else { continue }
                batch.append((rowNumber, record))
                if batch.count == batchSize {
                    try await send(batch, layout: currentLayout)
                    batch.removeAll(keepingCapacity: true)
                    if Task.isShuttingDownGracefully { return false }
                }
            }
            return true
        }

        do {
            var finished = true
            while let chunk = try await chunk(of: job.id, sequence: sequence) {
                sequence += 1
                guard try await take(parser.feed(chunk.readableBytesView)) else {
                    finished = false
                    break
                }
            }
            if finished { finished = try await take(parser.finish().map { [$0] } ?? []) }
            if finished, let layout, !batch.isEmpty { try await send(batch, layout: layout) }
            try await Self.finish(committing)
            guard finished else {
                try await release(job)
                logger.info("import paused for shutdown", metadata: ["job": "\(job.id)", "row": "\(rowNumber)"])
                return
            }
        } catch {
            try? await Self.finish(committing)  // never leave a batch committing behind a released lease
            throw error
        }
        try await client.transaction(logger: logger) { [self] connection in
            var done = SQLBuilder()
            done.append("""
                UPDATE \(jobs) SET status = 'completed', finished_at = date_trunc('milliseconds', now()), lease_until = NULL
                WHERE id = \(try done.bind(job.id)) AND lease_token = \(try done.bind(job.token)) AND status = 'running'
                RETURNING 1
                """)
            guard try await !connection.texts(done.query, logger: logger).isEmpty else { throw JobStopped() }
            var drop = SQLBuilder()
            drop.append("DELETE FROM \(schema.table("import_chunks")) WHERE job_id = \(try drop.bind(job.id))")
            try await connection.query(drop.query, logger: logger)
        }
        logger.info("import completed", metadata: ["job": "\(job.id)", "rows": "\(rowNumber)"])
    }

    private func chunk(of job: UUID, sequence: Int32) async throws -> ByteBuffer? {
        var sql = SQLBuilder()
        sql.append("SELECT data FROM \(schema.table("import_chunks")) WHERE job_id = \(try sql.bind(job)) AND seq = \(try sql.bind(sequence))")
        let statement = sql.query
        return try await client.read(logger: logger) { [logger] connection -> ByteBuffer? in
            for try await data in try await connection.query(statement, logger: logger).decode(ByteBuffer.self) { return data }
            return nil
        }
    }

    private func release(_ job: Job) async throws {
        var sql = SQLBuilder()
        sql.append("UPDATE \(jobs) SET lease_until = NULL WHERE id = \(try sql.bind(job.id)) AND lease_token = \(try sql.bind(job.token))")
        _ = try await client.write(sql.query, logger: logger)
    }

    struct Tally {
        var created: Int64 = 0
        var updated: Int64 = 0
        var skipped: Int64 = 0
        var failures: [(number: Int64, reason: String, raw: String)] = []
    }

    /// Waits for a batch's commit, which is cancelled (and rolls back) with the worker.
    private static func finish(_ commit: Task<Void, any Error>?) async throws {
        guard let commit else { return }
        try await withTaskCancellationHandler { try await commit.value } onCancel: { commit.cancel() }
    }

    /// A batch read and checked, before any database work: rows to write and rows that failed.
    struct Prepared: Sendable {
        var rows: Int
        var candidates: [Candidate] = []
        var failures: [(number: Int64, reason: String, raw: String)] = []

        /// The batch as single rows (the checking failures together), to find which row the
        /// database refuses.
        var singles: [Prepared] {
            candidates.map { Prepared(rows: 1, candidates: [$0]) } + (failures.isEmpty ? [] : [Prepared(rows: failures.count, failures: failures)])
        }
    }

    struct Candidate: Sendable {
        var number: Int64
        var raw: String
        var row: ContactFields
        var valid: ValidContact
        /// Why the row's owner may not own work; it fails the row unless the row updates a
        /// contact that has that owner already (an export imported again).
        var ownerRefusal: String?
    }

    /// Maps and checks every row; what is left to the database is only what needs it (the
    /// account a row names, and duplicates).
    private func prepare(
        _ batch: [(number: Int64, record: CSVParser.Record)], layout: ImportLayout, definitions: [CustomFieldDefinition]
    ) -> Prepared {
        var prepared = Prepared(rows: batch.count)
        let now = Date()
        for (number, record) in batch {
            if let (field, error) = record.invalid {
                prepared.failures.append((number, "\(layout.describe(column: field)) \(error.reason)", record.raw))
                continue
            }
            switch layout.fields(record.fields, definitions: definitions) {
            case let .failure(error):
                prepared.failures.append((number, error.reason, record.raw))
            case let .success(fields):
                do {
                    let valid = try fields.validated(definitions: definitions, previous: nil, now: now)
                    prepared.candidates.append(Candidate(number: number, raw: record.raw, row: fields, valid: valid))
                } catch {
                    prepared.failures.append((number, error.description, record.raw))
                }
            }
        }
        return prepared
    }

    /// One batch in one transaction. If the database refuses the batch (a row it will not take),
    /// each row is tried in a transaction of its own, so that row fails alone, with its reason.
    /// Any other failure (connection lost, shutdown) leaves the batch to be done again later.
    private func commit(_ batch: Prepared, of job: Job) async throws {
        do {
            try await client.transaction(logger: logger) { [self] connection in
                let tally = try await apply(batch, job: job, on: connection)
                try await record(tally, rows: batch.rows, job: job, on: connection)
            }
            return
        } catch let error as PSQLError where Self.isRefusal(error) {
            logger.warning("import batch refused; retrying row by row", metadata: ["job": "\(job.id)", "error": "\(String(reflecting: error))"])
        }
        for single in batch.singles {
            do {
                try await client.transaction(logger: logger) { [self] connection in
                    let tally = try await apply(single, job: job, on: connection)
                    try await record(tally, rows: single.rows, job: job, on: connection)
                }
            } catch let error as PSQLError where Self.isRefusal(error) {
                let reason = error.serverInfo?[.message] ?? String(describing: error)
                try await client.transaction(logger: logger) { [self] connection in
                    var tally = Tally()
                    tally.failures = single.candidates.map { ($0.number, "the database refused the row: \(reason)", $0.raw) }
                    try await record(tally, rows: single.rows, job: job, on: connection)
                }
            }
        }
    }

    /// A refusal of the data itself (SQLSTATE classes 22 data exception, 23 integrity violation,
    /// 54 program limit): retrying cannot help. Deadlocks, timeouts and shutdowns are not refusals.
    static func isRefusal(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return ["22", "23", "54"].contains(String(state.prefix(2)))
    }

    private func apply(_ batch: Prepared, job: Job, on connection: PostgresConnection) async throws -> Tally {
        var tally = Tally()
        tally.failures = batch.failures
        var candidates: [Candidate] = []
        // Owners are users: the batch's are looked up in one query, and stored as their ids.
        let owners = try await contacts.staff.users(Set(batch.candidates.compactMap(\.valid.fields.owner)), on: connection)
        for var candidate in batch.candidates {
            if let owner = candidate.valid.fields.owner {
                if let reason = StaffReplica.refusal(of: owner, owners[owner]) {
                    candidate.ownerRefusal = reason
                } else {
                    candidate.valid.fields.owner = owners[owner]?.id.uuidString.lowercased()
                    candidate.row.owner = candidate.valid.fields.owner
                }
            }
            if candidate.valid.fields.accountId != nil {
                do {
                    try await contacts.linkAccount(&candidate.valid.fields, on: connection)
                } catch let error as ContactsError {
                    tally.failures.append((candidate.number, error.description, candidate.raw))
                    continue
                }
            }
            candidates.append(candidate)
        }

        var existing: [String: UUID] = [:]
        let holders = try await contacts.claimHolders(
            emailKeys: candidates.flatMap(\.valid.emailKeys), phoneKeys: candidates.flatMap(\.valid.phoneKeys), on: connection
        )
        for holder in holders {
            for key in holder.identityKeys where existing[key] == nil {
                existing[key] = holder.id
            }
        }

        var creates: [ValidContact] = []
        var firstRowOfKey: [String: Int64] = [:]
        for candidate in candidates {
            let rowKeys = candidate.valid.identityKeys
            if rowKeys.contains(where: { firstRowOfKey[$0] != nil }) {
                tally.skipped += 1  // the same person as an earlier row of this file
                continue
            }
            for key in rowKeys { firstRowOfKey[key] = candidate.number }
            if let match = rowKeys.lazy.compactMap({ existing[$0] }).first {
                switch job.onDuplicate {
                case .skip:
                    tally.skipped += 1
                case .update:
                    do {
                        try await update(match, from: candidate.row, ownerRefusal: candidate.ownerRefusal, on: connection)
                        tally.updated += 1
                    } catch let error as ContactsError {
                        tally.failures.append((candidate.number, "updating contact \(match.lowercased): \(error)", candidate.raw))
                    }
                }
                continue
            }
            if let refusal = candidate.ownerRefusal {
                tally.failures.append((candidate.number, ContactsError.invalid("owner", refusal).description, candidate.raw))
                continue
            }
            creates.append(candidate.valid)
        }
        tally.created = Int64(try await contacts.insertWithEvents(creates, documents: false, on: connection).count)
        return tally
    }

    /// What the row holds (not what validation filled in, such as the default customer type)
    /// written onto the existing contact as a merge patch: e-mails, phones and tags are added to
    /// the contact's, an address changes only the parts the row gives.
    private func update(_ id: UUID, from row: ContactFields, ownerRefusal: String?, on connection: PostgresConnection) async throws {
        let current = try await contacts.lockForWrite(id, on: connection)
        let contact = try current.decode(Contact.self)
        if let ownerRefusal, row.owner != contact.fields.owner { throw ContactsError.invalid("owner", ownerRefusal) }
        guard case let .object(rowMembers) = try JSONValue.decoded(from: row), case let .object(existing) = try current.json else { return }
        var patch: [String: JSONValue] = [:]
        for (name, value) in rowMembers {
            switch value {
            case .null: continue
            case let .array(items) where items.isEmpty: continue
            case let .object(members) where members.isEmpty: continue
            case let .array(new) where ["emails", "phones", "tags"].contains(name):
                guard case let .array(old)? = existing[name] else { patch[name] = value; continue }
                let key = name == "emails" ? "address" : "number"
                func identity(_ item: JSONValue) -> String? {
                    if case let .string(text) = item { return text.lowercased() }
                    guard case let .object(members) = item, case let .string(text)? = members[key] else { return nil }
                    return name == "phones" ? Normalize.phone(text) : Normalize.email(text)
                }
                let known = Set(old.compactMap(identity))
                let added = new.filter { identity($0).map { !known.contains($0) } ?? false }.map { item -> JSONValue in
                    guard case var .object(members) = item else { return item }
                    members["primary"] = .bool(false)  // the contact keeps its primary
                    return .object(members)
                }
                patch[name] = .array(old + added)
            default:
                patch[name] = value
            }
        }
        let fields = try contacts.fields(applying: .object(patch), to: current)
        let definitions = try await CustomFieldStore.definitions(schema: schema, on: connection, logger: logger)
        var valid = try fields.validated(definitions: definitions, previous: contact.fields.consent, now: Date())
        try await contacts.linkAccount(&valid.fields, on: connection)
        let updated = try await contacts.write(valid, to: id, on: connection)
        try await outbox.append(
            try updated.event(ContactEvents.contactUpdated, aggregateId: id, version: contact.version + 1), on: connection, logger: logger
        )
    }

    private func record(_ tally: Tally, rows: Int, job: Job, on connection: PostgresConnection) async throws {
        if !tally.failures.isEmpty {
            let reported = tally.failures
            var sql = SQLBuilder()
            sql.append("""
                INSERT INTO \(schema.table("import_errors")) (job_id, row_number, reason, raw)
                SELECT \(try sql.bind(job.id)), * FROM unnest(\(try sql.bind(reported.map(\.number)))::int8[],
                    \(try sql.bind(reported.map(\.reason)))::text[], \(try sql.bind(reported.map(\.raw)))::text[])
                ON CONFLICT DO NOTHING
                """)
            try await connection.query(sql.query, logger: logger)
        }
        let failed = Int64(tally.failures.count)
        var sql = SQLBuilder()
        sql.append("""
            UPDATE \(jobs) SET rows_done = rows_done + \(try sql.bind(Int64(rows))), created = created + \(try sql.bind(tally.created)),
                updated = updated + \(try sql.bind(tally.updated)), skipped = skipped + \(try sql.bind(tally.skipped)),
                failed = failed + \(try sql.bind(failed)), lease_until = now() + interval '\(Self.lease)'
            WHERE id = \(try sql.bind(job.id)) AND status = 'running' AND lease_token = \(try sql.bind(job.token))
            RETURNING 1
            """)
        guard try await !connection.texts(sql.query, logger: logger).isEmpty else {
            throw JobStopped()  // rolls the batch back: the job was cancelled, or another worker took it over
        }
    }
}

/// The job's row says it is no longer this worker's to run (cancelled, or taken over after the lease ran out).
struct JobStopped: Error {}

extension JSONValue {
    static func decoded(from value: some Encodable) throws -> JSONValue {
        try APICoding.decoder.decode(JSONValue.self, from: APICoding.encoder.encode(value))
    }
}
