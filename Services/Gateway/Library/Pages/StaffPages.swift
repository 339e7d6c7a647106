import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Messaging
import NIOCore
import ServiceKit

/// The staff's pages of the customer base and their own work: home, search, contacts and the
/// customer overview. Every read and write is a call of the public API as the signed-in user.
struct StaffPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let users: UserStore
    let overview: @Sendable (UUID, Caller) async throws -> ByteBuffer

    var renderer: PageRenderer { access.renderer }

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/home") { _, _, visit in try await home(visit) }
        access.page(router, .get, "/search") { request, _, visit in
            let q = request.uri.queryParameters.get("q")?.trimmed ?? ""
            var values = visit.values
            values["q"] = q
            values["results"] = q.isEmpty ? [] : try await search(q, visit)
            return renderer.page("search", values)
        }
        access.page(router, .get, "/search.json") { request, _, visit in
            let q = request.uri.queryParameters.get("q")?.trimmed ?? ""
            let results = q.count < 2 ? [] : try await search(q, visit)
            let json = JSONValue.array(results.map { result in .object(result.mapValues { .string($0) }) })
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: try APICoding.encoder.encode(json)))
            )
        }
        access.page(router, .get, "/contacts") { request, _, visit in try await contacts(request, visit) }
        access.page(router, .get, "/contacts/:id") { request, context, visit in
            try await contact(try context.uuidParameter("id"), visit, channel: request.uri.queryParameters.get("channel"), problems: [:])
        }
        access.page(router, .post, "/contacts/:id/interactions") { _, context, visit in
            let id = try context.uuidParameter("id")
            let form = visit.form
            let body = JSONValue.object([
                "channel": .string(form["channel"] ?? "phone"), "direction": .string(form["direction"] ?? "outbound"),
                "subject": form["subject"].map(JSONValue.string) ?? .null, "notes": form["notes"].map(JSONValue.string) ?? .null,
                "recorded_by": .string(visit.session.userId.lowercased),
            ])
            let answer = try await api.call(.post, "/api/v1/contacts/{id}/interactions", ["id": id.lowercased], body: body, as: visit.caller)
            guard answer.ok else {
                return try await contact(id, visit, channel: nil, problems: ["log": answer.message])
            }
            throw PageOutcome.redirect("/contacts/\(id.lowercased)#timeline-heading")
        }
        access.page(router, .post, "/contacts/:id/activities") { _, context, visit in
            let id = try context.uuidParameter("id")
            let form = visit.form
            let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
            guard let due = Self.instant(day: form["date"] ?? "", time: form["time"] ?? "09:00", zone) else {
                return try await contact(id, visit, channel: nil, problems: ["schedule": "date: give a day as YYYY-MM-DD and a time as HH:MM"])
            }
            var body: [String: JSONValue] = [
                "kind": .string(form["kind"] ?? "call"), "subject": form["subject"].map(JSONValue.string) ?? .null, "due_at": .string(Self.timestamp(due)),
                "owner": .string(form["owner"] ?? visit.session.userId.lowercased), "contact_id": .string(id.lowercased),
            ]
            if let minutes = form["duration_minutes"].flatMap(Int.init) { body["duration_minutes"] = .number(Double(minutes)) }
            if let notes = form["notes"] { body["notes"] = .string(notes) }
            let answer = try await api.call(.post, "/api/v1/activities", body: .object(body), as: visit.caller)
            guard answer.ok else { return try await contact(id, visit, channel: nil, problems: ["schedule": answer.message]) }
            throw PageOutcome.redirect("/contacts/\(id.lowercased)#cact-heading")
        }
    }

    // MARK: - Home

    private func home(_ visit: WebAccess.Visit) async throws -> Response {
        let me = visit.session.userId.lowercased
        let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let endOfToday = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: Date()))!
        async let activities = api.get(
            "/api/v1/activities", query: [("owner", me), ("done", "false"), ("to", Self.timestamp(endOfToday)), ("limit", "100")], as: visit.caller
        )
        async let deals = api.get("/api/v1/deals", query: [("owner", me), ("status", "open"), ("limit", "100")], as: visit.caller)
        async let funnel = api.get("/api/v1/reports/funnel", query: [("owner", me)], as: visit.caller)
        async let recent = api.get("/api/v1/interactions", query: [("recorded_by", me), ("limit", "8")], as: visit.caller)
        var values = visit.values
        values["firstName"] = visit.session.name.split(separator: " ").first.map(String.init) ?? visit.session.name
        values["activities"] = (try await activities)["items"]?.array?.map { activity -> [String: Any] in
            Self.compact([
                "kind": activity["kind"]?.string ?? "", "subject": activity["subject"]?.string ?? "",
                "due": Self.local(activity["due_at"]?.string, zone), "overdue": activity["overdue"]?.bool ?? false,
                "contactId": activity["contact_id"]?.string,
            ])
        } ?? []
        values["recent"] = (try await recent)["items"]?.array?.map { interaction -> [String: Any] in
            Self.compact([
                "channel": interaction["channel"]?.string ?? "", "subject": interaction["subject"]?.string ?? "",
                "when": Self.local(interaction["occurred_at"]?.string, zone), "contactId": interaction["contact_id"]?.string ?? "",
                "contact": interaction["contact_name"]?.string ?? "(no name)",
            ])
        } ?? []
        // The default pipeline's stages in order with my open count and sum from the funnel report,
        // each with a few of my deals; a stage of another pipeline shows what the list brought.
        var stages: [(id: String, name: String, count: Int?, total: String?, deals: [JSONValue])] = (try await funnel)["stages"]?.array?.compactMap { stage in
            guard let count = stage["open"]?["count"]?.number.map(Int.init), count > 0 else { return nil }
            let sums = (stage["open"]?["amounts"]?.array ?? []).map(Self.money).joined(separator: " + ")
            return (stage["stage_id"]?.string ?? "", stage["name"]?.string ?? "?", count, sums, [])
        } ?? []
        for deal in try await deals["items"]?.array ?? [] {
            let id = deal["stage_id"]?.string ?? ""
            if let index = stages.firstIndex(where: { $0.id == id }) {
                stages[index].deals.append(deal)
            } else {
                stages.append((id, deal["stage_name"]?.string ?? "?", nil, nil, [deal]))
            }
        }
        values["stages"] = stages.map { stage -> [String: Any] in
            let count = stage.count ?? stage.deals.count
            return Self.compact([
                "name": stage.name, "count": count, "total": stage.total ?? Self.total(stage.deals),
                "deals": stage.deals.prefix(Self.dealsPerStage).map { ["id": $0["id"]?.string ?? "", "title": $0["title"]?.string ?? "", "amount": Self.money($0["amount"])] },
                "more": count > min(stage.deals.count, Self.dealsPerStage) ? count - min(stage.deals.count, Self.dealsPerStage) : nil,
            ])
        }
        return renderer.page("home", values)
    }

    // MARK: - Search

    /// Contacts, accounts and open deals whose names match, a few of each.
    private func search(_ q: String, _ visit: WebAccess.Visit) async throws -> [[String: String]] {
        async let contacts = api.get("/api/v1/contacts", query: [("q", q), ("limit", "5")], as: visit.caller)
        async let accounts = api.get("/api/v1/accounts", query: [("q", q), ("limit", "5")], as: visit.caller)
        async let deals = api.get("/api/v1/deals", query: [("q", q), ("status", "open"), ("limit", "5")], as: visit.caller)
        var results: [[String: String]] = []
        for contact in try await contacts["items"]?.array ?? [] {
            results.append([
                "kind": "Contact", "label": Self.name(contact), "href": "/contacts/\(contact["id"]?.string ?? "")",
                "detail": contact["company"]?.string ?? "",
            ])
        }
        for account in try await accounts["items"]?.array ?? [] {
            results.append(["kind": "Account", "label": account["name"]?.string ?? "", "href": "/accounts/\(account["id"]?.string ?? "")", "detail": ""])
        }
        for deal in try await deals["items"]?.array ?? [] {
            results.append([
                "kind": "Deal", "label": deal["title"]?.string ?? "", "href": "/deals/\(deal["id"]?.string ?? "")",
                "detail": [deal["stage_name"]?.string, Self.money(deal["amount"]).nonEmpty].compactMap { $0 }.joined(separator: " · "),
            ])
        }
        return results
    }

    // MARK: - Contacts

    static let contactFilters = ["q", "owner", "tag", "country", "region", "customer_type", "lead_source", "account_id", "sort"]

    private func contacts(_ request: Request, _ visit: WebAccess.Visit) async throws -> Response {
        var filter: [String: String] = [:]
        for name in Self.contactFilters {
            if let value = request.uri.queryParameters.get(name)?.trimmed, !value.isEmpty { filter[name] = value }
        }
        let cursor = request.uri.queryParameters.get("cursor")
        let answer = try await api.call(
            .get, "/api/v1/contacts", query: Self.contactFilters.map { ($0, filter[$0]) } + [("cursor", cursor), ("limit", "50")], as: visit.caller
        )
        let staff = try await users.names()
        var values = visit.values
        values["filter"] = filter
        values["query"] = Self.query(filter)
        values["customerTypes"] = Self.customerTypes.map { ["value": $0, "selected": filter["customer_type"] == $0] }
        if answer.ok {
            values["contacts"] = answer.json["items"]?.array?.map { contact -> [String: Any] in
                Self.compact([
                    "id": contact["id"]?.string ?? "", "name": Self.name(contact), "company": contact["company"]?.string ?? "",
                    "email": Self.primary(contact["emails"], "address") ?? "", "phone": Self.primary(contact["phones"], "number"),
                    "owner": contact["owner"]?.string.map { staff[$0] ?? $0 } ?? "",
                ])
            } ?? []
            if let next = answer.json["next_cursor"]?.string {
                values["next"] = Self.query(filter.merging(["cursor": next]) { $1 })
            }
        } else {
            values["contacts"] = [Any]()
            values["error"] = answer.fieldErrors.map { "\($0.key): \($0.value)" }.sorted().joined(separator: "; ").nonEmpty ?? answer.detail
        }
        return renderer.page("contacts", values)
    }

    /// The customer overview; `channel` narrows the timeline, `problems` are a refused form's
    /// (`log` or `schedule`) shown beside it.
    private func contact(_ id: UUID, _ visit: WebAccess.Visit, channel: String?, problems: [String: String]) async throws -> Response {
        let answer: JSONValue
        do {
            answer = try APICoding.decoder.decode(JSONValue.self, from: Data(try await overview(id, visit.caller).readableBytesView))
        } catch let problem as Problem where problem.statusCode == 404 {
            throw PageOutcome.notFound
        }
        guard let contact = answer["contact"], contact != .null else {
            throw Problem(.serviceUnavailable, slug: "upstream-unavailable", detail: "the contacts service did not answer")
        }
        let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
        let staff = try await users.names()
        var values = visit.values
        values["id"] = id.lowercased
        values["name"] = Self.name(contact)
        if let position = contact["position"]?.string { values["position"] = position }
        values["emails"] = contact["emails"]?.array?.compactMap { $0["address"]?.string } ?? []
        values["phones"] = contact["phones"]?.array?.compactMap { $0["number"]?.string } ?? []
        if let owner = contact["owner"]?.string { values["owner"] = staff[owner] ?? owner }
        if let tags = contact["tags"]?.array?.compactMap(\.string).joined(separator: ", ").nonEmpty { values["tags"] = tags }
        if let account = answer["account"], account != .null {
            values["account"] = ["id": account["id"]?.string ?? "", "name": account["name"]?.string ?? ""]
        }
        values["profile"] = Self.profile(contact)
        let channels = ["phone", "email", "visit", "letter", "fax", "web", "chat"]
        values["channels"] = channels
        values["channelLinks"] = [["label": "all", "href": "/contacts/\(id.lowercased)#timeline-heading", "current": channel == nil]]
            + channels.map { ["label": $0, "href": "/contacts/\(id.lowercased)?channel=\($0)#timeline-heading", "current": $0 == channel] }
        if let problem = problems["log"] { values["logError"] = problem }
        if let problem = problems["schedule"] { values["scheduleError"] = problem }
        values["kinds"] = ["call", "meeting", "task"]
        // Only active users may be given work; every user's name is shown where one has some.
        values["staff"] = try await users.names(activeOnly: true).sorted { $0.value < $1.value }
            .map { ["id": $0.key, "name": $0.value, "me": $0.key == visit.session.userId.lowercased] }
        values["today"] = Self.local(Self.timestamp(Date()), zone, format: "yyyy-MM-dd")
        var timeline = answer["interactions"]?.array ?? []
        if let channel, channels.contains(channel) {
            timeline = try await api.get(
                "/api/v1/contacts/{id}/interactions", ["id": id.lowercased], query: [("channel", channel), ("limit", "50")], as: visit.caller
            )["items"]?.array ?? []
        }
        values["interactions"] = timeline.map { interaction -> [String: Any] in
            Self.compact([
                "channel": interaction["channel"]?.string ?? "", "direction": interaction["direction"]?.string ?? "",
                "subject": interaction["subject"]?.string ?? "", "when": Self.local(interaction["occurred_at"]?.string, zone),
                "notes": interaction["notes"]?.string, "by": interaction["recorded_by"]?.string.map { staff[$0] ?? $0 },
            ])
        }
        let deals = (answer["deals"]?["open"]?.array ?? []) + (answer["deals"]?["closed"]?.array ?? [])
        values["deals"] = deals.map { deal -> [String: Any] in
            ["id": deal["id"]?.string ?? "", "title": deal["title"]?.string ?? "", "amount": Self.money(deal["amount"]),
             "state": deal["status"]?.string == "open" ? (deal["stage_name"]?.string ?? "open") : (deal["status"]?.string ?? "")]
        }
        // The overview's activities are the open ones, by due time (`activities.open`).
        values["activities"] = answer["activities"]?["open"]?.array?.map { activity -> [String: Any] in
            ["kind": activity["kind"]?.string ?? "", "subject": activity["subject"]?.string ?? "",
             "due": Self.local(activity["due_at"]?.string, zone), "overdue": activity["overdue"]?.bool ?? false, "done": activity["done"]?.bool ?? false]
        } ?? []
        values["orders"] = (answer["orders"]?.array ?? []).map { OrderPages.summary($0, zone) }
        if let alerts = answer["open_alerts"]?.number, alerts > 0 { values["openAlerts"] = Int(alerts) }
        var missing: [String] = []
        if case let .object(sources)? = answer["sources"] {
            for (name, source) in sources where source["status"]?.string != "ok" { missing.append(name) }
        }
        if !missing.isEmpty { values["missing"] = missing.sorted().joined(separator: ", ") }
        return renderer.page("contact", values, status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    // MARK: - Shapes of values

    static let customerTypes = ["prospect", "customer", "former_customer", "partner"]
    /// Home lists this many of my open deals per stage; the board has them all.
    static let dealsPerStage = 8

    /// The values without the absent ones, which a template's section then skips.
    static func compact(_ values: [String: Any?]) -> [String: Any] {
        values.compactMapValues { $0 }
    }

    static func name(_ contact: JSONValue) -> String {
        [contact["first_name"]?.string, contact["last_name"]?.string].compactMap { $0 }.joined(separator: " ").nonEmpty ?? "(no name)"
    }

    /// The primary entry's member of a list of e-mails or phones, else the first.
    static func primary(_ list: JSONValue?, _ member: String) -> String? {
        let items = list?.array ?? []
        return (items.first { $0["primary"]?.bool == true } ?? items.first)?[member]?.string
    }

    static func profile(_ contact: JSONValue) -> [[String: String]] {
        var rows: [[String: String]] = []
        func add(_ label: String, _ value: String?) {
            if let value, !value.isEmpty { rows.append(["label": label, "value": value.replacingOccurrences(of: "_", with: " ")]) }
        }
        add("Customer type", contact["customer_type"]?.string)
        add("Lead source", contact["lead_source"]?.string)
        add("Purchase purpose", contact["purchase_purpose"]?.string)
        add("Buying priorities", contact["buying_priorities"]?.array?.compactMap(\.string).joined(separator: " › "))
        add("Payment method", contact["payment_method"]?.string)
        add("Language", contact["preferred_language"]?.string)
        if let address = contact["address"], address != .null {
            add("Address", ["street", "postal_code", "city", "region", "country"].compactMap { address[$0]?.string }.joined(separator: ", "))
        }
        return rows
    }

    static func money(_ amount: JSONValue?) -> String {
        guard let amount, let value = amount["amount"]?.string else { return "" }
        return "\(value) \(amount["currency"]?.string ?? "")"
    }

    /// The sum of the deals' amounts when they share one currency.
    static func total(_ deals: [JSONValue]) -> String {
        let currencies = Set(deals.compactMap { $0["amount"]?["currency"]?.string })
        guard currencies.count == 1, let currency = currencies.first else { return currencies.isEmpty ? "" : "several currencies" }
        let sum = deals.compactMap { $0["amount"]?["amount"]?.string.flatMap { Decimal(string: $0) } }.reduce(Decimal(0), +)
        return "\(sum) \(currency)"
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }

    /// A timestamp in the user's time zone, as people read it.
    static func local(_ timestamp: String?, _ zone: TimeZone, format: String = "EEE d MMM yyyy, HH:mm") -> String {
        guard let timestamp, let date = date(timestamp) else { return timestamp ?? "" }
        let formatter = DateFormatter()
        formatter.timeZone = zone
        formatter.dateFormat = format
        formatter.locale = Locale(identifier: "en_GB")
        return formatter.string(from: date)
    }

    /// A day and a time of day as the user's clock reads them, as an instant.
    static func instant(day: String, time: String, _ zone: TimeZone) -> Date? {
        let d = day.split(separator: "-").compactMap { Int($0) }, t = time.split(separator: ":").compactMap { Int($0) }
        guard d.count == 3, t.count >= 2, (1...12).contains(d[1]), (1...31).contains(d[2]), (0...23).contains(t[0]), (0...59).contains(t[1]) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: d[0], month: d[1], day: d[2], hour: t[0], minute: t[1]))
    }

    /// An API timestamp, with or without fractions of a second.
    static func date(_ timestamp: String) -> Date? {
        (try? Date(timestamp, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))) ?? (try? Date(timestamp, strategy: .iso8601))
    }

    static func query(_ values: [String: String]) -> String {
        var components = URLComponents()
        components.queryItems = values.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
