import Foundation

/// The sales part of `switchboard demo`, through the public API: a catalogue with a price list,
/// leads at every step, deals in every stage of the default pipeline (won and lost with reasons
/// over the last twelve months, recorded after the fact with `created_at` and `closed_at`, so the
/// dashboards have a year to show; some with lines and quotes sent or accepted), this week's
/// activities and a call list, owned by the demo's sales people (their user ids).
struct DemoSales {
    let api: DemoAPI
    let owners: [String]

    func load(contacts: [String], random: inout SplitMix64) async throws -> String {
        let products = try await catalogue()
        let leads = try await loadLeads(random: &random)
        let pipeline = try await api.call("GET", "/api/v1/pipelines")["items"] as? [[String: Any]] ?? []
        let stages = (pipeline.first { $0["is_default"] as? Bool == true }?["stages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        let reasons = (try await api.call("GET", "/api/v1/lost-reasons")["items"] as? [[String: Any]] ?? [])
            .filter { $0["retired"] as? Bool != true }.compactMap { $0["code"] as? String }
        var deals = 0, quotes = 0
        for index in 0..<120 {
            let contact = contacts[random.next(contacts.count)]
            let decided = index % 3 != 0 && [1, 2].contains(index % 5)
            // Deals decided in the past were made up to a year ago; open ones in the last quarter.
            let made = Date().addingTimeInterval(-Double(decided ? 30 + random.next(335) : random.next(90)) * 86_400 - 3_600)
            let closed = min(made.addingTimeInterval(Double(7 + random.next(80)) * 86_400), Date().addingTimeInterval(-600))
            var deal = try await api.call("POST", "/api/v1/deals", json: [
                "title": "\(DemoData.dealTopics[index % DemoData.dealTopics.count]) \(index + 1)", "contact_id": contact,
                "amount": ["amount": "\(1_000 + random.next(90) * 500).00", "currency": "EUR"],
                "stage_id": stages[index % stages.count], "owner": owners[random.next(owners.count)],
                "expected_close_date": Self.day(in: 7 + random.next(120)), "created_at": Self.timestamp(made),
            ])
            deals += 1
            if index % 3 == 0 {
                deal = try await act(deal, "PUT", "lines", ["lines": [
                    ["product_id": products[random.next(products.count)], "quantity": 1 + random.next(5)],
                    ["product_id": products[random.next(products.count)], "quantity": 1 + random.next(20), "discount_percent": 5],
                ]])
                let quote = try await api.call("POST", "/api/v1/deals/\(deal["id"]!)/quotes", json: ["notes": "Valid for 30 days."])
                quotes += 1
                if index % 2 == 0 {
                    let sent = try await act(quote, "POST", "send", [:], on: "quotes")
                    if index % 4 == 0 { _ = try await act(sent, "POST", "accept", [:], on: "quotes") }
                }
            } else if index % 5 == 1 {
                _ = try await act(deal, "POST", "won", ["comment": "Signed", "closed_at": Self.timestamp(closed)])
            } else if index % 5 == 2, !reasons.isEmpty {
                _ = try await act(deal, "POST", "lost", [
                    "reason": reasons[index % reasons.count], "comment": "Chose another supplier", "closed_at": Self.timestamp(closed),
                ])
            }
        }
        let activities = try await loadActivities(contacts: contacts, random: &random)
        let listed = Array(contacts.shuffled(using: &random).prefix(25))
        _ = try await api.call("POST", "/api/v1/call-lists", json: [
            "name": "Reactivation calls", "contact_ids": listed, "owner": owners[0],
            "script": "Ask about this season's needs; offer the new catalogue.",
        ])
        return "\(products.count) products, \(leads) leads, \(deals) deals, \(quotes) quotes, \(activities) activities and a call list"
    }

    private func catalogue() async throws -> [String] {
        var products: [String] = []
        for (index, item) in DemoData.products.enumerated() {
            let product = try await api.call("POST", "/api/v1/products", json: [
                "code": "DEMO-\(index + 1)", "name": item.name, "unit": item.unit,
                "base_price": ["amount": item.price, "currency": "EUR"], "tax_rate": 19,
            ])
            products.append(product["id"] as? String ?? "")
        }
        let list = try await api.call("POST", "/api/v1/price-lists", json: ["name": "Partner prices", "currency": "EUR", "customer_group": "partner"])
        for (product, item) in zip(products, DemoData.products) {
            let price = (Double(item.price) ?? 0) * 0.9
            _ = try await api.call("PUT", "/api/v1/price-lists/\(list["id"]!)/prices/\(product)", json: [
                "unit_price": ["amount": String(format: "%.2f", price), "currency": "EUR"],
            ])
        }
        return products
    }

    private func loadLeads(random: inout SplitMix64) async throws -> Int {
        for index in 0..<30 {
            let first = DemoData.firstNames[random.next(DemoData.firstNames.count)]
            let last = DemoData.lastNames[random.next(DemoData.lastNames.count)]
            let lead = try await api.call("POST", "/api/v1/leads", json: [
                "first_name": first, "last_name": last, "company": "\(DemoData.companyWords[index % DemoData.companyWords.count]) Trading",
                "email": "\(first).\(last).lead\(index)@example.org".lowercased(), "owner": owners[index % owners.count],
                "source": ["web", "referral", "exhibition", "advertising", "cold_call"][index % 5], "status": index % 2 == 0 ? "new" : "contacted",
            ])
            switch index % 6 {
            case 0: _ = try await act(lead, "POST", "qualify", [:], on: "leads")
            case 1: _ = try await act(lead, "POST", "disqualify", ["reason": "No budget this year"], on: "leads")
            default: break
            }
        }
        return 30
    }

    private func loadActivities(contacts: [String], random: inout SplitMix64) async throws -> Int {
        let monday = Calendar(identifier: .iso8601).dateInterval(of: .weekOfYear, for: Date())?.start ?? Date()
        for index in 0..<24 {
            let due = monday.addingTimeInterval(Double(index % 5) * 86_400 + Double(8 + index % 9) * 3_600)
            _ = try await api.call("POST", "/api/v1/activities", json: [
                "kind": ["call", "meeting", "task"][index % 3], "subject": DemoData.subjects[index % DemoData.subjects.count],
                "due_at": ISO8601DateFormatter().string(from: due), "contact_id": contacts[random.next(contacts.count)],
                "owner": owners[index % owners.count], "duration_minutes": [15, 30, 60][index % 3],
            ])
        }
        return 24
    }

    /// An action on a resource with the version read as If-Match: `/api/v1/<on>/<id>/<action>`.
    private func act(_ resource: [String: Any], _ method: String, _ action: String, _ body: [String: Any], on kind: String = "deals") async throws -> [String: Any] {
        guard let id = resource["id"] as? String, let version = resource["version"] as? Int else { return resource }
        return try await api.call(method, "/api/v1/\(kind)/\(id)/\(action)", json: body, headers: ["If-Match": "\"\(version)\""])
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    static func day(in days: Int) -> String {
        let date = Date().addingTimeInterval(Double(days) * 86_400)
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
