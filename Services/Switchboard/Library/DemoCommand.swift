import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `switchboard demo`: a few hundred contacts, accounts and interactions, and the sales around
/// them (DemoSales), loaded through the public API (the contacts by CSV import), so a new
/// installation shows something at once. It does nothing when contacts exist already.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Load demo data through the gateway when it has no contacts."
    )

    @Option(help: "The gateway's base URL.")
    var gateway = "http://127.0.0.1:8080"

    @Option(help: "How many contacts.")
    var contacts = 300

    func run() async throws {
        guard let key = ProcessInfo.processInfo.environment["SWITCHBOARD_ADMIN_KEY"], !key.isEmpty else {
            throw ValidationError("set SWITCHBOARD_ADMIN_KEY to the admin API key")
        }
        let api = DemoAPI(base: gateway, key: key)
        let users = try await DemoUsers(api: api).ensure()
        defer { print("sign in at \(gateway) as\n" + DemoUsers.signIns) }
        let owners = DemoUsers.owners(users)
        let existing = try await api.call("GET", "/api/v1/contacts?limit=1")
        if let items = existing["items"] as? [Any], !items.isEmpty {
            print("demo data not loaded: there are contacts already")
            return
        }
        var random = SplitMix64(seed: 20_261_122)
        var accountIds: [String] = []
        for index in 0..<30 {
            let name = "\(DemoData.companyWords[index % DemoData.companyWords.count]) \(DemoData.companySuffixes[index % DemoData.companySuffixes.count])"
            let account = try await api.call("POST", "/api/v1/accounts", json: [
                "name": name, "industry": DemoData.industries[index % DemoData.industries.count],
                "size_band": ["1-9", "10-49", "50-249", "250-999", "1000+"][index % 5],
                "website": "\(name.lowercased().replacingOccurrences(of: " ", with: "-")).example.com",
                "address": ["city": DemoData.cities[index % DemoData.cities.count].city, "country": DemoData.cities[index % DemoData.cities.count].country],
            ])
            if let id = account["id"] as? String { accountIds.append(id) }
        }

        var csv = "first_name,last_name,email,phone,position,account_id,city,region,country,lead_source,purchase_purpose,buying_priorities,payment_method,customer_type,tags,email_consent,owner\n"
        for index in 0..<contacts {
            let first = DemoData.firstNames[random.next(DemoData.firstNames.count)]
            let last = DemoData.lastNames[random.next(DemoData.lastNames.count)]
            let place = DemoData.cities[random.next(DemoData.cities.count)]
            let account = random.next(3) == 0 ? "" : accountIds[random.next(accountIds.count)]
            let priorities = ["price", "quality", "delivery_time", "service"].shuffled(using: &random).prefix(1 + random.next(3))
            let fields = [
                first, last, "\(first).\(last).\(index)@example.com".lowercased(), "+49 30 \(1_000_000 + index * 7)",
                DemoData.positions[random.next(DemoData.positions.count)], account, place.city, place.region, place.country,
                ["advertising", "referral", "web", "exhibition", "cold_call", "other"][random.next(6)],
                ["resale", "own_use", "other"][random.next(3)], priorities.joined(separator: ";"),
                ["cash", "card", "invoice", "bank_transfer", "direct_debit"][random.next(5)],
                ["prospect", "customer", "customer", "former_customer", "partner"][random.next(5)],
                ["newsletter", "vip", "trade-fair", "key-account"][random.next(4)], random.next(4) == 0 ? "false" : "true",
                owners[index % owners.count],
            ]
            csv += fields.joined(separator: ",") + "\n"
        }
        let job = try await api.call("POST", "/api/v1/imports?filename=demo.csv", body: Data(csv.utf8), contentType: "text/csv")
        guard let jobId = job["id"] as? String else { throw ValidationError("the import was not accepted: \(job)") }
        var status = job
        for _ in 0..<600 where !["completed", "failed"].contains(status["status"] as? String ?? "") {
            try await Task.sleep(for: .milliseconds(200))
            status = try await api.call("GET", "/api/v1/imports/\(jobId)")
        }
        print("imported \(status["created"] ?? 0) contacts (\(status["failed"] ?? 0) failed)")

        var cursor: String?
        var logged = 0
        var contactIds: [String] = []
        repeat {
            let page = try await api.call("GET", "/api/v1/contacts?limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
            for contact in page["items"] as? [[String: Any]] ?? [] {
                guard let id = contact["id"] as? String else { continue }
                contactIds.append(id)
                for _ in 0..<(1 + random.next(3)) {
                    let daysAgo = random.next(120)
                    let when = Date().addingTimeInterval(-Double(daysAgo * 86_400 + random.next(36_000)))
                    _ = try await api.call("POST", "/api/v1/contacts/\(id)/interactions", json: [
                        "channel": ["visit", "phone", "email", "fax", "web", "chat", "letter"][random.next(7)],
                        "direction": random.next(2) == 0 ? "inbound" : "outbound",
                        "occurred_at": ISO8601DateFormatter().string(from: when),
                        "subject": DemoData.subjects[random.next(DemoData.subjects.count)],
                        "outcome": ["interested", "call back", "no answer", "order placed", "complaint resolved"][random.next(5)],
                        "recorded_by": owners[random.next(owners.count)],
                    ])
                    logged += 1
                }
            }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        print("loaded \(accountIds.count) accounts, \(status["created"] ?? 0) contacts and \(logged) interactions")
        guard !contactIds.isEmpty else { return }
        print("loaded " + (try await DemoSales(api: api, owners: owners).load(contacts: contactIds, random: &random)))
    }
}

/// A small HTTP client for the demo loader.
struct DemoAPI {
    var base: String
    var key: String

    func call(
        _ method: String, _ path: String, json: Any? = nil, body: Data? = nil, contentType: String = "application/json", headers: [String: String] = [:],
        expectJSON: Bool = true
    ) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json { request.httpBody = try JSONSerialization.data(withJSONObject: json) } else { request.httpBody = body }
        if request.httpBody != nil { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            throw ValidationError("\(method) \(path) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        guard expectJSON else { return [:] }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }
}

/// A seeded generator, so every installation gets the same demo data.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(_ upperBound: Int) -> Int { Int(next() % UInt64(upperBound)) }
}

enum DemoData {
    static let firstNames = ["Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Karla", "Leon", "Mia",
                             "Noah", "Olga", "Paul", "Rosa", "Sven", "Tara", "Ugo", "Vera", "Wim", "Yara", "Zoe", "Marta", "Luis"]
    static let lastNames = ["Schmidt", "Müller", "Rossi", "García", "Dubois", "Novak", "Jensen", "Kowalski", "Silva", "Andersson",
                            "Bianchi", "Martin", "Horvat", "Nagy", "Popescu", "Weber", "Fischer", "Costa", "Moreau", "Berg"]
    static let companyWords = ["Nordlicht", "Alpine", "Baltic", "Danube", "Rhine", "Atlas", "Helios", "Orion", "Vega", "Polaris",
                               "Meridian", "Summit", "Harbor", "Granite", "Falcon"]
    static let companySuffixes = ["Logistics", "Machinery", "Foods", "Textiles", "Electronics", "Pharma", "Components"]
    static let industries = ["manufacturing", "wholesale", "retail", "logistics", "food", "healthcare", "construction"]
    static let positions = ["Purchasing Manager", "CEO", "Buyer", "Head of Operations", "Office Manager", "Procurement Lead", "CFO"]
    static let cities: [(city: String, region: String, country: String)] = [
        ("Berlin", "Berlin", "DE"), ("Hamburg", "Hamburg", "DE"), ("München", "Bayern", "DE"), ("Wien", "Wien", "AT"),
        ("Zürich", "Zürich", "CH"), ("Milano", "Lombardia", "IT"), ("Lyon", "Auvergne-Rhône-Alpes", "FR"),
        ("Warszawa", "Mazowieckie", "PL"), ("Praha", "Praha", "CZ"), ("Rotterdam", "Zuid-Holland", "NL"),
    ]
    static let dealTopics = ["Annual supply contract", "Warehouse equipment", "Spare parts framework", "Pilot order", "Service agreement",
                             "Line extension", "Packaging upgrade", "Fleet renewal"]
    static let products: [(name: String, unit: String, price: String)] = [
        ("Pallet rack, 3 m", "pc", "420.00"), ("Conveyor module", "pc", "1850.00"), ("Spare parts kit", "set", "129.00"),
        ("Maintenance visit", "h", "95.00"), ("Safety gloves (100)", "box", "39.90"), ("Forklift battery", "pc", "2400.00"),
    ]
    static let subjects = ["Price inquiry", "Order follow-up", "Delivery date", "Product demo", "Complaint", "Trade fair meeting",
                           "Quote requested", "Payment reminder", "New catalogue", "Service visit"]
}
