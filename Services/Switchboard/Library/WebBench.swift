import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PostgresNIO

/// `switchboard bench web`: the server time of the staff's busiest pages at a million contacts and
/// a million deals, and each page's weight, through the running gateway as a signed-in user. The
/// bases are the contacts and sales benches' fixtures (seeded when fewer); the bench user owns one
/// fiftieth of the seeded deals, so their home page and their board are a busy rep's.
struct WebBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web", abstract: "Page latency (p50/p99) and page weight of home, contacts, a contact, the deal board and the dashboards."
    )

    @Option(help: "The gateway's base URL.") var gateway = "http://127.0.0.1:8080"
    @Option(help: "Contacts and deals to measure at (seeded when fewer).") var base = 1_000_000
    @Option(help: "Requests per page.") var queries = 200

    static let email = "bench.web@example.com"
    static let password = "bench web password 1"

    func run() async throws {
        guard let key = ProcessInfo.processInfo.environment["SWITCHBOARD_ADMIN_KEY"], !key.isEmpty else {
            throw ValidationError("set SWITCHBOARD_ADMIN_KEY to the admin API key")
        }
        // Redirects not followed: the sign-in's 303 carries the session cookie.
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        print("switchboard bench web: \(queries) requests per page")
        do {
            try await OperatorContext.withClient { client in
                let contacts = try await ContactsBench.parse(["--base", "\(base)"]).seed(client, run: "bench_web_\(UUID().uuidString.prefix(8).lowercased())")
                let deals = try await SalesBench.parse(["--base", "\(base)"]).seed(client)
                let user = try await benchUser(key: key)
                // Fixtures, as the seeds are: one fiftieth of the bench deals become the user's.
                try await client.query(PostgresQuery(unsafeSQL: "UPDATE sales.deals SET owner = '\(user)' WHERE tags @> ARRAY['bench'] AND owner = 'owner0'"))
                let someone = try await SalesBench.parse([]).contactsWithDeals(client)
                print("at \(contacts) contacts and \(deals) deals")
                let cookie = try await signIn(http)
                let pages: [(String, [String], Double)] = [
                    ("home", ["/home"], 50), ("contact list", ["/contacts"], 50),
                    ("contact page", someone.prefix(queries).map { "/contacts/\($0)" }, 50), ("deal board", ["/deals"], 50),
                    ("dashboards", ["/dashboards"], 150),
                ]
                let assets = try await weight(http, cookie: cookie, "/assets/app.css") + (try await weight(http, cookie: cookie, "/assets/app.js"))
                for (name, paths, target) in pages {
                    var times: [Double] = []
                    var bytes = 0
                    for index in 0..<queries {
                        let start = ContinuousClock.now
                        bytes = try await weight(http, cookie: cookie, paths[index % paths.count])
                        times.append(seconds(since: start) * 1000)
                    }
                    times.sort()
                    print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + String(
                        format: "p50 %6.1f ms  p99 %6.1f ms (target p99 <= %.0f ms)  weight %4d KB with style and script (target < 200 KB)",
                        percentile(times, 0.5), percentile(times, 0.99), target, (bytes + assets) / 1024
                    ))
                }
            }
        } catch {
            try? await http.shutdown()
            throw BenchFailure(String(reflecting: error))
        }
        try await http.shutdown()
    }

    /// The bench's sales user with a known password: made once, its password set again each run.
    func benchUser(key: String) async throws -> String {
        let api = DemoAPI(base: gateway, key: key)
        let users = try await api.call("GET", "/api/v1/users")["items"] as? [[String: Any]] ?? []
        let existing = users.first { $0["email"] as? String == Self.email }?["id"] as? String
        return try await DemoUsers.user(api, name: "Bench Rep", email: Self.email, role: "sales", password: Self.password, existing: existing)
    }

    func signIn(_ http: HTTPClient) async throws -> String {
        var request = HTTPClientRequest(url: gateway + "/sign-in")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "email=\(Self.email.formEncoded)&password=\(Self.password.formEncoded)"))
        let response = try await http.execute(request, timeout: .seconds(30))
        guard let cookie = response.headers["set-cookie"].first?.split(separator: ";").first else {
            throw BenchFailure("sign-in answered \(response.status.code) without a cookie")
        }
        return String(cookie)
    }

    /// The page's body size, required to answer 200.
    func weight(_ http: HTTPClient, cookie: String, _ path: String) async throws -> Int {
        var request = HTTPClientRequest(url: gateway + path)
        request.headers.add(name: "Cookie", value: cookie)
        let response = try await http.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else { throw BenchFailure("\(path) answered \(response.status.code): \(String(buffer: body).prefix(300))") }
        return body.readableBytes
    }
}

extension String {
    fileprivate var formEncoded: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? self
    }
}
