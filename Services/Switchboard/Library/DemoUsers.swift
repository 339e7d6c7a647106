import ArgumentParser
import Foundation

/// The demo's staff, made through the public API and given a password through the page that a
/// new user's one-time link opens, as a person would: an admin, a sales manager who leads the
/// sales team, and two sales reps. Everyone signs in with `password`.
struct DemoUsers {
    let api: DemoAPI
    static let password = "switchboard-demo"
    static let people: [(name: String, email: String, role: String, title: String)] = [
        ("Ada Lovelace", "ada.lovelace@example.com", "admin", "administrator"),
        ("Sam Okafor", "sam.okafor@example.com", "sales", "sales manager"),
        ("Anna Weber", "anna.weber@example.com", "sales", "sales rep"),
        ("Ben Jensen", "ben.jensen@example.com", "sales", "sales rep"),
    ]

    /// The demo users' ids by e-mail, made where missing.
    func ensure() async throws -> [String: String] {
        var ids: [String: String] = [:]
        for user in try await api.call("GET", "/api/v1/users")["items"] as? [[String: Any]] ?? [] {
            if let email = (user["email"] as? String)?.lowercased(), let id = user["id"] as? String { ids[email] = id }
        }
        for person in Self.people where ids[person.email] == nil {
            ids[person.email] = try await Self.user(api, name: person.name, email: person.email, role: person.role, password: Self.password)
        }
        let teams = try await api.call("GET", "/api/v1/teams")["items"] as? [[String: Any]] ?? []
        if !teams.contains(where: { $0["name"] as? String == "Sales" }) {
            _ = try await api.call("POST", "/api/v1/teams", json: [
                "name": "Sales", "lead_id": ids["sam.okafor@example.com"]!,
                "member_ids": Self.people.filter { $0.role == "sales" }.compactMap { ids[$0.email] },
            ])
        }
        try await Self.awaitCopies(api, of: Self.people.map(\.email))
        return ids
    }

    /// Waits (up to 20 s) until the services that keep a copy of the staff from its events
    /// (contacts, sales) know each user, so the users may own work at once: an owner filter by
    /// an address of nobody they know is a 422.
    static func awaitCopies(_ api: DemoAPI, of emails: [String]) async throws {
        let deadline = Date().addingTimeInterval(20)
        for email in emails {
            for path in ["/api/v1/contacts", "/api/v1/deals"] {
                while true {
                    do {
                        _ = try await api.call("GET", "\(path)?owner=\(email.replacingOccurrences(of: "@", with: "%40"))&limit=1")
                        break
                    } catch let error as ValidationError where Date() < deadline && "\(error)".contains("answered 422") {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
        }
    }

    /// The id of the user with this e-mail, made when missing, with this password set through the
    /// one-time link's page (a new link for a user who exists).
    static func user(_ api: DemoAPI, name: String, email: String, role: String, password: String, existing: String? = nil) async throws -> String {
        let id: String, link: String
        if let existing {
            (id, link) = (existing, try await api.call("POST", "/api/v1/users/\(existing)/password-link", json: [String: Any]())["path"] as? String ?? "")
        } else {
            let user = try await api.call("POST", "/api/v1/users", json: ["name": name, "email": email, "role": role, "time_zone": "Europe/Berlin"])
            (id, link) = (user["id"] as? String ?? "", (user["password_link"] as? [String: Any])?["path"] as? String ?? "")
        }
        guard !id.isEmpty, !link.isEmpty else { throw ValidationError("the user \(email) was not made or has no password link") }
        var form = URLComponents()
        form.queryItems = [URLQueryItem(name: "password", value: password), URLQueryItem(name: "repeat", value: password)]
        let body = (form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        _ = try await api.call("POST", link, body: Data(body.utf8), contentType: "application/x-www-form-urlencoded", expectJSON: false)
        return id
    }

    /// The ids of the sales people, who own the demo's customers and deals.
    static func owners(_ ids: [String: String]) -> [String] {
        people.filter { $0.role == "sales" }.compactMap { ids[$0.email] }
    }

    static var signIns: String {
        people.map { "    \($0.email.padding(toLength: 26, withPad: " ", startingAt: 0)) \($0.title)" }.joined(separator: "\n")
            + "\n    password for each: \(password)"
    }
}
