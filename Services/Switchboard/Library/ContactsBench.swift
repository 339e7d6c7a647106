import ArgumentParser
import AsyncHTTPClient
import Foundation
import Messaging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ServiceKit
import Storage

/// `switchboard bench contacts`: the contacts service through the running gateway, against
/// PostgreSQL doing the same work directly, in one run. It needs the suite running (`up`) and the
/// administrator login; what it adds is tagged `bench_…` (seeded contacts stay, as a large base is
/// the point; `--clean` removes them).
struct ContactsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts",
        abstract: "Create rate through the gateway against pgbench, search and list latency at a million contacts, CSV import against COPY."
    )

    @Option(help: "The gateway's base URL.") var gateway = "http://127.0.0.1:8080"
    @Option(help: "Concurrent clients of the create run and of pgbench.") var concurrency = 16
    @Option(help: "Contacts created through the gateway (and pgbench transactions).") var creates = 5_000
    @Option(help: "Live contacts to measure search and list at (seeded when fewer).") var base = 1_000_000
    @Option(help: "Requests per latency measurement.") var queries = 500
    @Option(help: "Rows of the CSV import run.") var importRows = 1_000_000
    @Option(help: "The pgbench executable.") var pgbench = "/usr/lib/postgresql/15/bin/pgbench"
    @Option(help: "The psql executable (for COPY).") var psql = "/usr/lib/postgresql/15/bin/psql"
    @Flag(help: "Delete the seeded base too (every contact tagged bench) afterwards.") var clean = false

    func run() async throws {
        guard let key = ProcessInfo.processInfo.environment["SWITCHBOARD_ADMIN_KEY"], !key.isEmpty else {
            throw ValidationError("set SWITCHBOARD_ADMIN_KEY to the admin API key")
        }
        let environment = SwitchboardEnvironment()
        let database = environment.database(defaultUser: "switchboard_admin")
        let run = "bench_\(UUID().uuidString.prefix(8).lowercased())"
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency))
        )
        let api = BenchAPI(http: http, base: gateway, key: key)
        print("switchboard bench contacts: run \(run), \(concurrency) clients")
        do {
            try await measure(api, database: database, run: run)
        } catch {
            try? await http.shutdown()
            throw BenchFailure(String(reflecting: error))
        }
        try await http.shutdown()
    }

    func measure(_ api: BenchAPI, database: DatabaseConfiguration, run: String) async throws {
        try await OperatorContext.withClient { client in
            // 1. Creates through the gateway, then pgbench running the create's own statement, then
            // pgbench doing a bare insert and outbox row.
            let createRate = try await createThroughGateway(api, run: run)
            // The gateway run's events are out before the comparator starts, so their relaying
            // is not counted against it.
            try await waitUntil { try await count("SELECT count(*) FROM contacts.outbox WHERE published_at IS NULL", client) == 0 }
            let sameStatementRate = try await pgbenchCreateStatement(client, database: database, run: run)
            let bareRate = try await pgbenchCreates(client, database: database, run: run)
            print(String(format: "contact create via gateway        %8.0f req/s  (%d clients, %d creates)", createRate, concurrency, creates))
            print(String(format: "pgbench, the create's statement   %8.0f tx/s   ratio %.2f (target >= 0.5)", sameStatementRate, createRate / sameStatementRate))
            print(String(format: "pgbench, bare insert + outbox     %8.0f tx/s   ratio %.2f (no duplicate check, empty copy table, events unread)",
                         bareRate, createRate / bareRate))

            // 2. Search and keyset lists at the size of the base.
            let live = try await seed(client, run: run)
            let search = try await api.timedGets(searchPaths(run: run))
            print(String(format: "search ?q= at %d contacts          p50 %6.1f ms  p99 %6.1f ms (target p99 <= 25 ms)",
                         live, percentile(search, 0.5), percentile(search, 0.99)))
            for sort in ["created", "name"] {
                let pages = try await keysetWalk(api, sort: sort)
                print(String(format: "keyset list sort=%-7@ 50/page      p50 %6.1f ms  p99 %6.1f ms (target p99 <= 25 ms)",
                             sort, percentile(pages, 0.5), percentile(pages, 0.99)))
            }

            // 3. CSV import against COPY of the same file.
            let file = try writeCSV(run: run)
            defer { try? FileManager.default.removeItem(at: file) }
            let (importSeconds, peakRSS) = try await importThroughGateway(api, file: file)
            let copied = "public.\(run)_copy"
            let copySeconds = try await copy(file, into: copied, database: database)
            let floorSeconds = try await insertCopied(copied, client: client)
            print(String(format: "import of %d CSV rows             %8.1f s  (%.0f rows/s), contacts RSS peak %.0f MiB (target <= 512)",
                         importRows, importSeconds, Double(importRows) / importSeconds, peakRSS))
            print(String(format: "COPY of the same file             %8.1f s  import/COPY %.1f (target <= 4)", copySeconds, importSeconds / copySeconds))
            print(String(format: "  its rows into contacts.contacts %8.1f s  import/that %.1f (one INSERT: the table's indexes, nothing checked, no events)",
                         floorSeconds, importSeconds / floorSeconds))

            // What this run added goes, so that the next run measures at --base again (a
            // million-row import would double the base); with --clean the seeded base goes too.
            let removed = try await remove(clean ? "ARRAY['bench']" : "ARRAY['\(run)']", client)
            print(clean ? "removed every bench contact (\(removed))" : "removed this run's \(removed) contacts (creates and import); the seeded base stays")
        }
    }

    /// Deletes the contacts tagged with any of `tags` (an SQL array), straight from the table as
    /// the seed wrote them; sales' replica keeps its copies, which no deal names.
    func remove(_ tags: String, _ client: PostgresClient) async throws -> Int {
        try await client.query(PostgresQuery(unsafeSQL: """
            DELETE FROM contacts.interactions WHERE contact_id IN (SELECT id FROM contacts.contacts WHERE tags && \(tags))
            """))
        var removed = 0
        for try await count in try await client.query(PostgresQuery(unsafeSQL: """
            WITH gone AS (DELETE FROM contacts.contacts WHERE tags && \(tags) RETURNING 1) SELECT count(*) FROM gone
            """)).decode(Int.self) {
            removed = count
        }
        return removed
    }

    func createThroughGateway(_ api: BenchAPI, run: String) async throws -> Double {
        let start = ContinuousClock.now
        let perClient = creates / concurrency
        let prefix = Int.random(in: 10_000...99_999)  // phones of this run only
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    for index in 0..<perClient {
                        let body = """
                            {"first_name":"Bench","last_name":"Create \(worker)-\(index)","tags":["bench","\(run)"],
                             "emails":[{"address":"\(run)-\(worker)-\(index)@example.com"}],"phones":[{"number":"+1 \(prefix) \(worker) \(100_000 + index)"}],
                             "address":{"city":"Berlin","country":"DE"},"lead_source":"web"}
                            """
                        let answer = try await api.send(.POST, "/api/v1/contacts", body: body)
                        guard answer.status == 201 else { throw BenchFailure("create answered \(answer.status): \(answer.body)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(perClient * concurrency) / seconds(since: start)
    }

    /// The API's create without the service: the statement the contacts service sends for it
    /// (`contacts.create_contact`: duplicate check under the identity locks, insert, document,
    /// event, NOTIFY) with a row like the bench's requests, planned per call as the service's is.
    /// Its events are relayed and consumed like the API's, so both runs pay for the same work
    /// downstream on the same cores. The contacts carry this run's tag and go with the rest.
    func pgbenchCreateStatement(_ client: PostgresClient, database: DatabaseConfiguration, run: String) async throws -> Double {
        let generation = try await count("SELECT generation FROM contacts.custom_field_generation", client)
        let email = "'s' || :n::text || '.\(run)@example.com'"
        let channel = Outbox(schema: try SchemaName("contacts")).notificationChannel
        let script = """
            \\set n random(1, 2000000000)
            SELECT outcome FROM contacts.create_contact(('[{"id": "' || gen_random_uuid() || '", "first_name": "Bench", "last_name": "Create ' || :n::text
                || '", "emails": [{"address": "' || \(email) || '", "primary": true}], "phones": [{"number": "+1 ' || :n::text
                || '", "primary": true}], "email_keys": ["' || \(email) || '"], "phone_keys": ["+1' || :n::text
                || '"], "address": {"city": "Berlin", "country": "DE"}, "country": "DE", "lead_source": "web", "buying_priorities": [], '
                || '"customer_type": "prospect", "consent": {}, "tags": ["bench", "\(run)"], "custom_fields": {}}]')::json,
                NULL, true, ARRAY[\(email)], ARRAY['+1' || :n::text], \(generation), 'contacts.contact.created', 'contacts', '\(channel)');
            """
        return try await pgbenchRate(
            executable: pgbench, script: script, name: "\(run)-statement", clients: concurrency, transactions: creates, database: database
        )
    }

    /// A bare create: a contact row like the API's into a copy of the contacts table (same
    /// columns and indexes, but empty), an outbox row nobody relays, the NOTIFY.
    func pgbenchCreates(_ client: PostgresClient, database: DatabaseConfiguration, run: String) async throws -> Double {
        for statement in [
            "CREATE SCHEMA \(run)", "CREATE TABLE \(run).contacts (LIKE contacts.contacts INCLUDING ALL)",
            "CREATE TABLE \(run).outbox (LIKE contacts.outbox INCLUDING ALL)",
        ] {
            try await client.query(PostgresQuery(unsafeSQL: statement))
        }
        let script = """
            \\set n random(1, 2000000000)
            BEGIN;
            INSERT INTO \(run).contacts (id, first_name, last_name, emails, phones, email_keys, phone_keys, address, region, country, lead_source, customer_type, consent, tags, custom_fields) VALUES (gen_random_uuid(), 'Bench', 'Create ' || :n, ('[{"address": "p' || :n || '@example.com", "primary": true}]')::jsonb, ('[{"number": "+1 ' || :n || '", "primary": true}]')::jsonb, ARRAY['p' || :n || '@example.com'], ARRAY['+1' || :n], '{"city": "Berlin", "country": "DE"}', NULL, 'DE', 'web', 'prospect', '{}', ARRAY['bench'], '{}');
            INSERT INTO \(run).outbox (id, type, aggregate_id, aggregate_version, payload) VALUES (contacts.time_ordered_uuid(), 'contacts.contact.created', gen_random_uuid(), 1, '{"data": {}}');
            SELECT pg_notify('\(run)', '');
            COMMIT;
            """
        let rate = try await pgbenchRate(
            executable: pgbench, script: script, name: run, clients: concurrency, transactions: creates, database: database
        )
        try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(run) CASCADE"))
        return rate
    }

    /// Tops the live contacts up to `base` with generated ones (straight into the table: these are
    /// fixtures, not events), and refreshes the planner's statistics.
    func seed(_ client: PostgresClient, run: String) async throws -> Int {
        let live = try await count("SELECT count(*) FROM contacts.contacts WHERE deleted_at IS NULL", client)
        let missing = base - live
        if missing > 0 {
            let start = ContinuousClock.now
            var done = 0
            while done < missing {
                let chunk = min(50_000, missing - done)
                try await client.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO contacts.contacts (id, first_name, last_name, emails, phones, email_keys, phone_keys, company, address,
                        region, country, lead_source, customer_type, tags, created_at, updated_at)
                    SELECT gen_random_uuid(), f, l, jsonb_build_array(jsonb_build_object('address', e, 'primary', true)),
                        jsonb_build_array(jsonb_build_object('number', p, 'primary', true)), ARRAY[e], ARRAY[p], c,
                        jsonb_build_object('city', 'City ' || (n % 500), 'country', 'DE'), 'Region ' || (n % 16), 'DE',
                        (ARRAY['advertising','referral','web','exhibition','cold_call','other'])[1 + n % 6],
                        (ARRAY['prospect','customer','former_customer','partner'])[1 + n % 4], ARRAY['bench'],
                        now() - make_interval(secs => n), now() - make_interval(secs => n)
                    FROM (SELECT n,
                            (ARRAY['Anna','Ben','Clara','David','Elena','Felix','Greta','Hugo','Ida','Jonas'])[1 + n % 10] || (n % 997) AS f,
                            (ARRAY['Schmidt','Müller','Rossi','Garcia','Dubois','Novak','Jensen','Kowalski','Silva','Berg'])[1 + (n / 10) % 10]
                                || '-' || (n % 7919) AS l,
                            'seed' || n || '.\(run)@example.com' AS e, '+4930' || (10000000 + n) AS p,
                            'Company ' || (n % 20011) AS c
                          FROM generate_series(\(done + 1), \(done + chunk)) AS n) AS s
                    """))
                done += chunk
            }
            try await client.query("ANALYZE contacts.contacts")
            print(String(format: "seeded %d contacts in %.0f s", missing, seconds(since: start)))
        }
        return max(live, base)
    }

    func searchPaths(run: String) -> [String] {
        var random = SystemRandomNumberGenerator()
        let terms = ["schmidt-1", "muller", "rossi-77", "anna12", "company 19", "garcia-5", "novak-3", "felix9", "jensen-42", "berg-100",
                     "seed12345", "4930100", "@example", "clara5", "dubois-7"]
        return (0..<queries).map { index in
            let term = index % 3 == 0 ? "seed\(Int.random(in: 1...base, using: &random))." : terms[index % terms.count]
            return "/api/v1/contacts?limit=20&q=" + (term.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? term)
        }
    }

    /// Follows next_cursor page after page from the start, timing each page.
    func keysetWalk(_ api: BenchAPI, sort: String) async throws -> [Double] {
        var times: [Double] = []
        var cursor: String?
        for _ in 0..<queries {
            let start = ContinuousClock.now
            let answer = try await api.send(.GET, "/api/v1/contacts?limit=50&sort=\(sort)" + (cursor.map { "&cursor=\($0)" } ?? ""))
            times.append(seconds(since: start) * 1000)
            guard answer.status == 200 else { throw BenchFailure("list answered \(answer.status): \(answer.body)") }
            let page = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
            cursor = page?["next_cursor"] as? String
            if cursor == nil { break }
        }
        return times.sorted()
    }

    func writeCSV(run: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(run).csv")
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw ValidationError("cannot create \(file.path)")
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        // Phones of this run only, as the e-mails are: rows matching an earlier run's contacts
        // would be skipped as duplicates, and the run would time dedupe instead of writing.
        let prefix = Int.random(in: 10_000...99_999)
        var text = "first_name,last_name,email,phone,company,city,country,lead_source,customer_type,tags\n"
        for row in 1...importRows {
            text += "Imp\(row % 997),Row \(row),imp\(row).\(run)@example.com,+44 \(prefix) \(1_000_000 + row),Firm \(row % 5003),City \(row % 300),GB,"
                + "\(["web", "referral", "exhibition"][row % 3]),prospect,bench;\(run)\n"
            if text.utf8.count > 1 << 20 {
                handle.write(Data(text.utf8))
                text = ""
            }
        }
        handle.write(Data(text.utf8))
        return file
    }

    /// Upload to completion, sampling the contacts service's resident memory as it works.
    func importThroughGateway(_ api: BenchAPI, file: URL) async throws -> (seconds: Double, peakMiB: Double) {
        let pid = Self.pid(of: "contacts")
        let start = ContinuousClock.now
        let answer = try await api.send(.POST, "/api/v1/imports?filename=bench.csv", body: String(decoding: try Data(contentsOf: file), as: UTF8.self),
                                        contentType: "text/csv")
        guard answer.status == 202, let job = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
            let id = job["id"] as? String
        else { throw BenchFailure("the upload answered \(answer.status): \(answer.body)") }
        var peak = pid.map(Self.residentMiB) ?? 0
        while true {
            try await Task.sleep(for: .milliseconds(250))
            if let pid { peak = max(peak, Self.residentMiB(pid)) }
            let status = try await api.send(.GET, "/api/v1/imports/\(id)")
            let progress = try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any] ?? [:]
            if progress["status"] as? String == "completed" {
                // A run that skipped or failed rows timed something other than writing them.
                guard (progress["created"] as? Int) == importRows else { throw BenchFailure("the import did not create every row: \(status.body)") }
                break
            }
            if progress["status"] as? String == "failed" { throw BenchFailure("the import failed: \(status.body)") }
        }
        return (seconds(since: start), peak)
    }

    /// COPY of the same file into a new table of its columns, through psql's \copy.
    func copy(_ file: URL, into table: String, database: DatabaseConfiguration) async throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: psql)
        process.arguments = [
            "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", database.host, "-p", String(database.port), "-U", database.user, "-d", database.database,
            "-c", "CREATE TABLE \(table) (first_name text, last_name text, email text, phone text, company text, city text, country text, lead_source text, customer_type text, tags text)",
            "-c", "\\copy \(table) FROM '\(file.path)' WITH (FORMAT csv, HEADER)",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = database.password
        process.environment = environment
        let start = ContinuousClock.now
        try process.run()
        let status = try await onOwnThread {
            process.waitUntilExit()
            return process.terminationStatus
        }
        guard status == 0 else { throw BenchFailure("psql \\copy failed") }
        return seconds(since: start)
    }

    /// The copied rows, shaped as the import stores them, in one INSERT into the contacts table
    /// beside the import's own: what the database alone spends to put these rows in that table
    /// (its generated search text and every index, the trigram one too), the floor any import
    /// stands on. Then the copy goes; the rows carry the run's tag and go with the rest.
    func insertCopied(_ table: String, client: PostgresClient) async throws -> Double {
        let drop = PostgresQuery(unsafeSQL: "DROP TABLE \(table)")
        let start = ContinuousClock.now
        do {
            try await client.query(PostgresQuery(unsafeSQL: """
                INSERT INTO contacts.contacts (id, first_name, last_name, emails, phones, email_keys, phone_keys, company, address,
                    country, lead_source, customer_type, tags)
                SELECT gen_random_uuid(), first_name, last_name, jsonb_build_array(jsonb_build_object('address', email, 'primary', true)),
                    jsonb_build_array(jsonb_build_object('number', phone, 'primary', true)), ARRAY[lower(email)],
                    ARRAY[regexp_replace(phone, '[^0-9+]', '', 'g')], company, jsonb_build_object('city', city, 'country', country),
                    country, lead_source, customer_type, string_to_array(tags, ';')
                FROM \(table)
                """))
        } catch {
            _ = try? await client.query(drop)  // a million copied rows are not left in public
            throw error
        }
        let elapsed = seconds(since: start)
        try await client.query(drop)
        return elapsed
    }

    /// The pid of the running executable named `name`, from /proc.
    static func pid(of name: String) -> Int? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int(entry), let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/exe") else { continue }
            if URL(fileURLWithPath: target).lastPathComponent == name { return pid }
        }
        return nil
    }

    static func residentMiB(_ pid: Int) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}

/// The gateway as the benchmark calls it.
struct BenchAPI: Sendable {
    let http: HTTPClient
    let base: String
    let key: String

    func send(_ method: HTTPMethod, _ path: String, body: String? = nil, contentType: String = "application/json") async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(3600))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    /// GETs one at a time, each timed and required to answer 200 (milliseconds, sorted).
    func timedGets(_ paths: [String]) async throws -> [Double] {
        var times: [Double] = []
        for path in paths {
            let start = ContinuousClock.now
            let answer = try await send(.GET, path)
            guard answer.status == 200 else { throw BenchFailure("\(path) answered \(answer.status): \(answer.body)") }
            times.append(seconds(since: start) * 1000)
        }
        return times.sorted()
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
