import Foundation
import ServiceKit

/// A user's writable fields, as a create or a patched document gives them.
struct UserFields: Decodable, Sendable {
    var name: String?
    var email: String?
    var role: Role?
    var teamIds: [UUID]?
    var timeZone: String?
    var outOfOffice: Absence?

    /// An absence, whole days in the user's time zone, both ends included.
    struct Absence: Codable, Sendable, Hashable {
        var from: String
        var to: String
    }

    enum CodingKeys: String, CodingKey {
        case name, email, role
        case teamIds = "team_ids", timeZone = "time_zone", outOfOffice = "out_of_office"
    }

    /// What the service sets and a patch may not: the state changes have routes of their own.
    static let serviceSet = ["active", "password_set"]

    /// The fields checked and trimmed, every problem named at once.
    func validated() throws -> Valid {
        var check = FieldChecker()
        let name = check.text(name, "name", required: true, maximum: 200)
        let email = check.text(email, "email", required: true, maximum: 254)
        if let email, !Self.isEmail(email) { check.fail("email", "is not an e-mail address (name@example.com)") }
        if role == nil { check.fail("role", "is required: admin, sales, support, marketing or readonly") }
        let zone = timeZone?.trimmed ?? "UTC"
        if TimeZone(identifier: zone) == nil || zone.isEmpty {
            check.fail("time_zone", "is not an IANA time zone such as Europe/Berlin")
        }
        if let absence = outOfOffice {
            let from = Self.day(absence.from), to = Self.day(absence.to)
            if from == nil { check.fail("out_of_office.from", "must be a date, YYYY-MM-DD") }
            if to == nil { check.fail("out_of_office.to", "must be a date, YYYY-MM-DD") }
            if let from, let to, to < from { check.fail("out_of_office.to", "must not be before from") }
        }
        let teams = Array(Set(teamIds ?? [])).sorted { $0.uuidString < $1.uuidString }
        try check.check { Problem.validation($0) }
        return Valid(name: name!, email: email!, role: role!, teamIds: teams, timeZone: zone, outOfOffice: outOfOffice)
    }

    struct Valid: Sendable {
        var name: String
        var email: String
        var role: Role
        var teamIds: [UUID]
        var timeZone: String
        var outOfOffice: Absence?
    }

    /// One @, something before it, a dot in the domain, no spaces: what a mail server accepts, without
    /// the RFC's corners nobody types.
    static func isEmail(_ text: String) -> Bool {
        text.wholeMatch(of: /[^@\s]+@[^@\s]+\.[^@\s]+/) != nil
    }

    static func day(_ text: String) -> String? {
        guard text.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = text.split(separator: "-").compactMap { Int($0) }
        let components = DateComponents(year: parts[0], month: parts[1], day: parts[2])
        guard let date = calendar.date(from: components), calendar.dateComponents([.year, .month, .day], from: date) == components else {
            return nil
        }
        return text
    }
}
