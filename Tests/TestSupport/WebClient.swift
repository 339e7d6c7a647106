import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A browser's side of the web app without a browser: one cookie jar, redirects not followed (a
/// test reads where it is sent), forms posted URL-encoded. The browser itself is Tests/Browser.
public final class WebClient: Sendable {
    public let baseURL: String
    private let cookie = Mutex<String?>(nil)
    private let session: URLSession

    public init(baseURL: String = APIClient(key: nil).baseURL) {
        self.baseURL = baseURL
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    public var sessionCookie: String? { cookie.withLock { $0 } }

    public func get(_ path: String) async throws -> APIClient.Answer { try await send("GET", path, body: nil) }

    /// Posts the form; `csrf` adds the `_csrf` field as the page's forms carry it.
    public func post(_ path: String, _ fields: [(String, String)], csrf: String? = nil) async throws -> APIClient.Answer {
        var components = URLComponents()
        components.queryItems = (fields + (csrf.map { [("_csrf", $0)] } ?? [])).map { URLQueryItem(name: $0.0, value: $0.1) }
        let body = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        return try await send("POST", path, body: Data(body.utf8))
    }

    /// Signs in; the answer is the sign-in's (a 303 to the next page when it worked).
    @discardableResult
    public func signIn(_ email: String, _ password: String) async throws -> APIClient.Answer {
        try await post("/sign-in", [("email", email), ("password", password)])
    }

    /// The CSRF token of the forms of the page at `path`.
    public func csrf(on path: String = "/home") async throws -> String {
        let page = try await get(path)
        guard let match = page.text.firstMatch(of: /name="_csrf" value="([0-9a-f]+)"/) else {
            throw TestFailure("no form with a CSRF token on \(path) (\(page.status))")
        }
        return String(match.1)
    }

    private func send(_ method: String, _ path: String, body: Data?) async throws -> APIClient.Answer {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let body {
            request.httpBody = body
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        if let cookie = sessionCookie { request.setValue(cookie, forHTTPHeaderField: "Cookie") }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        var answered: [String: String] = [:]
        for (name, value) in http.allHeaderFields { answered["\(name)".lowercased()] = "\(value)" }
        if let set = answered["set-cookie"], let pair = set.split(separator: ";").first {
            cookie.withLock { $0 = set.contains("Max-Age=0") ? nil : String(pair) }
        }
        return APIClient.Answer(status: http.statusCode, headers: answered, body: data)
    }
}

private final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

extension APIClient {
    /// A new staff user with this role and password (set through the one-time link's page, as the
    /// user would); the user document.
    public func newUser(role: String, password: String, name: String = "Test User") async throws -> [String: Any] {
        let created = try await newStaffUser(role: role, name: name)
        guard let link = (created["password_link"] as? [String: Any])?["path"] as? String else {
            throw TestFailure("the new user has no password link: \(created)")
        }
        let set = try await WebClient(baseURL: baseURL).post(link, [("password", password), ("repeat", password)])
        guard set.status == 200 else { throw TestFailure("the password was not set: \(set.status) \(set.text)") }
        return created
    }

    /// A new staff user, once the services that keep a copy of the staff (contacts and sales, from
    /// the identity.user.* events) know them, so they may own work at once; the user document.
    public func newStaffUser(role: String = "sales", name: String = "Test User") async throws -> [String: Any] {
        let email = "\(TestEnvironment.uniqueName("user"))@example.com".lowercased()
        let created = try await post("/api/v1/users", ["name": name, "email": email, "role": role, "time_zone": "Europe/Berlin"])
        guard created.status == 201 else { throw TestFailure("the user was not created: \(created.status) \(created.text)") }
        // An owner filter by an address nobody has is a 422; by this one, a 200 once the copy has it.
        let encoded = email.replacingOccurrences(of: "@", with: "%40")
        for path in ["/api/v1/contacts", "/api/v1/deals"] {
            let known = try await TestEnvironment.eventually(timeout: .seconds(20), every: .milliseconds(20)) {
                try await get("\(path)?owner=\(encoded)&limit=1").status == 200
            }
            guard known else { throw TestFailure("\(path) did not learn of user \(email) in 20 s") }
        }
        return created.json
    }
}
