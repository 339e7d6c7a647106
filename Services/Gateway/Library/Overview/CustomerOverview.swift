import Contracts
import Foundation
import Hummingbird
import Logging
import Messaging
import NIOCore
import ServiceKit

/// `GET /api/v1/customers/{contact_id}/overview`: the contact, its account, its latest
/// interactions, its deals and open activities, asked of the services in parallel, each with a
/// deadline. A service
/// that is down or slow leaves its part empty and says so in `sources`; the answer still comes
/// (200), unless the contacts service answers that the contact does not exist (404).
struct CustomerOverview: Sendable {
    let contacts: Upstream
    let sales: Upstream
    let timeout: TimeAmount
    let logger: Logger

    /// How many interactions and deals the overview shows at most.
    static let latestInteractions = 10
    static let deals = 200
    static let activities = 50

    /// What one part of the overview got from its service.
    enum Part {
        case found(JSONValue)
        case missing(reason: String, detail: String)

        var value: JSONValue? {
            if case let .found(value) = self { return value }
            return nil
        }
    }

    func answer(_ contactId: UUID, caller: Caller) async throws -> Response {
        let id = contactId.lowercased
        async let contactPart = part(contacts, "/api/v1/contacts/\(id)", caller: caller)
        async let interactionsPart = part(contacts, "/api/v1/contacts/\(id)/interactions?limit=\(Self.latestInteractions)", caller: caller)
        async let dealsPart = part(sales, "/api/v1/deals?contact_id=\(id)&limit=\(Self.deals)", caller: caller)
        async let activitiesPart = part(sales, "/api/v1/activities?contact_id=\(id)&done=false&limit=\(Self.activities)", caller: caller)

        let contact = try await contactPart
        var account: Part = .found(.null)
        var deals = try await dealsPart
        var activities = try await activitiesPart
        if case let .found(.object(members)) = contact {
            if case let .string(accountId)? = members["account_id"] {
                account = try await part(contacts, "/api/v1/accounts/\(accountId)", caller: caller, notFound: .null)
            }
            // A merged id answers with its survivor, whose deals sales now lists under the survivor's id.
            if case let .string(survivor)? = members["id"], survivor != id {
                deals = try await part(sales, "/api/v1/deals?contact_id=\(survivor)&limit=\(Self.deals)", caller: caller)
                activities = try await part(sales, "/api/v1/activities?contact_id=\(survivor)&done=false&limit=\(Self.activities)", caller: caller)
            }
        }
        let interactions = try await interactionsPart

        var sources: [String: JSONValue] = [:]
        for (name, parts) in [("contacts", [contact, account, interactions]), ("sales", [deals, activities])] {
            if case let .missing(reason, detail)? = parts.first(where: { $0.value == nil }) {
                sources[name] = .object(["status": .string(reason), "detail": .string(detail)])
            } else {
                sources[name] = .object(["status": .string("ok")])
            }
        }
        let body: JSONValue = .object([
            "contact": contact.value ?? .null,
            "account": account.value ?? .null,
            "interactions": Self.items(interactions.value) ?? .array([]),
            "deals": try Self.dealSummary(deals.value),
            "activities": Self.items(activities.value).map { JSONValue.object(["open": $0]) } ?? .null,
            "sources": .object(sources),
        ])
        return try APICoding.response(body)
    }

    /// One service's answer to one read. A 404 is the contact's absence (the whole overview's
    /// 404) unless `notFound` gives what stands in for it; a service that cannot be reached, is
    /// too slow or fails is a missing part.
    private func part(_ upstream: Upstream, _ path: String, caller: Caller, notFound: JSONValue? = nil) async throws -> Part {
        do {
            let (status, body) = try await upstream.get(path, caller: caller, timeout: timeout)
            switch status {
            case 200: return .found(try APICoding.decoder.decode(JSONValue.self, from: Data(body.readableBytesView)))
            case 404:
                if let notFound { return .found(notFound) }
                throw Problem.notFound(path.hasPrefix("/api/v1/contacts/") ? "contact \(path.split(separator: "/")[3])" : path)
            default:
                logger.warning("overview part failed", metadata: ["upstream": "\(upstream.name)", "path": "\(path)", "status": "\(status)"])
                return .missing(reason: "failed", detail: "the \(upstream.name) service answered \(status)")
            }
        } catch let problem as Problem where problem.statusCode == 504 {
            return .missing(reason: "timeout", detail: problem.detail ?? "no answer in time")
        } catch let problem as Problem where problem.statusCode == 503 {
            return .missing(reason: "unavailable", detail: problem.detail ?? "cannot be reached")
        } catch is DecodingError {
            return .missing(reason: "failed", detail: "the \(upstream.name) service answered something other than JSON")
        } catch let problem as Problem where problem.statusCode == 404 {
            throw problem
        } catch {
            // A body cut off or too large: the part is missing, the overview still answers.
            logger.warning("overview part failed", metadata: ["upstream": "\(upstream.name)", "path": "\(path)", "error": "\(String(reflecting: error))"])
            return .missing(reason: "failed", detail: "the \(upstream.name) service's answer could not be read")
        }
    }

    private static func items(_ page: JSONValue?) -> JSONValue? {
        guard case let .object(members)? = page else { return nil }
        return members["items"]
    }

    /// The contact's deals split into open and closed, with the open pipeline and the won amounts
    /// per currency; null when sales did not answer.
    static func dealSummary(_ page: JSONValue?) throws -> JSONValue {
        guard case let .array(items)? = items(page) else { return .null }
        var open: [JSONValue] = []
        var closed: [JSONValue] = []
        var openTotals: [String: Decimal] = [:]
        var wonTotals: [String: Decimal] = [:]
        for deal in items {
            guard case let .object(fields) = deal, case let .string(status)? = fields["status"] else { continue }
            let amount = try? APICoding.decoder.decode(Money.self, from: APICoding.encoder.encode(fields["amount"] ?? .null))
            if status == "open" {
                open.append(deal)
                if let amount { openTotals[amount.currency, default: 0] += amount.amount }
            } else {
                closed.append(deal)
                if status == "won", let amount { wonTotals[amount.currency, default: 0] += amount.amount }
            }
        }
        func totals(_ sums: [String: Decimal]) throws -> JSONValue {
            .array(try sums.keys.sorted().map { currency in
                let money = try Money(amount: sums[currency]!, currency: currency)
                return .object(["amount": .string(money.amountText), "currency": .string(currency)])
            })
        }
        var summary: [String: JSONValue] = [
            "open": .array(open), "closed": .array(closed), "open_amounts": try totals(openTotals), "won_amounts": try totals(wonTotals),
        ]
        if case let .object(members)? = page, case .string = members["next_cursor"] { summary["truncated"] = .bool(true) }
        return .object(summary)
    }
}
