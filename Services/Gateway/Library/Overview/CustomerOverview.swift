import Contracts
import Foundation
import Hummingbird
import Logging
import Messaging
import NIOCore
import ServiceKit

/// `GET /api/v1/customers/{contact_id}/overview`: the contact, its account, its latest
/// interactions, its deals and open activities. It is one read of each service, both asked at
/// once with a deadline each (contacts: `/contacts/{id}/summary`; sales:
/// `/customers/{id}/sales`). A service that is down or slow leaves its part empty and says so in
/// `sources`; the answer still comes (200), unless the contacts service answers that the contact
/// does not exist (404).
struct CustomerOverview: Sendable {
    let contacts: Upstream
    let sales: Upstream
    let timeout: TimeAmount
    let logger: Logger

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
        async let contactsPart = part(contacts, "/api/v1/contacts/\(id)/summary", caller: caller)
        async let salesPart = part(sales, "/api/v1/customers/\(id)/sales", caller: caller)
        let people = try await contactsPart
        var deals = try await salesPart
        // A merged id answers with its survivor, whose deals sales now keeps under the survivor's id.
        if case let .object(summary)? = people.value, case let .object(contact)? = summary["contact"],
            case let .string(survivor)? = contact["id"], survivor != id
        {
            deals = try await part(sales, "/api/v1/customers/\(survivor)/sales", caller: caller)
        }

        var sources: [String: JSONValue] = [:]
        for (name, part) in [("contacts", people), ("sales", deals)] {
            if case let .missing(reason, detail) = part {
                sources[name] = .object(["status": .string(reason), "detail": .string(detail)])
            } else {
                sources[name] = .object(["status": .string("ok")])
            }
        }
        let summary = Self.members(people.value)
        let sold = Self.members(deals.value)
        let body: JSONValue = .object([
            "contact": summary["contact"] ?? .null,
            "account": summary["account"] ?? .null,
            "interactions": summary["interactions"] ?? .array([]),
            "deals": sold.isEmpty ? .null : try Self.dealSummary(sold["deals"], truncated: sold["truncated"] == .bool(true)),
            "activities": sold["activities"].map { JSONValue.object(["open": $0]) } ?? .null,
            "sources": .object(sources),
        ])
        return try APICoding.response(body)
    }

    /// One service's answer to one read. A 404 is the contact's absence (the whole overview's
    /// 404); a service that cannot be reached, is too slow or fails is a missing part.
    private func part(_ upstream: Upstream, _ path: String, caller: Caller) async throws -> Part {
        do {
            let (status, body) = try await upstream.get(path, caller: caller, timeout: timeout)
            switch status {
            case 200: return .found(try APICoding.decoder.decode(JSONValue.self, from: Data(body.readableBytesView)))
            case 404:
                throw Problem.notFound("contact \(path.split(separator: "/")[3])")
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

    private static func members(_ value: JSONValue?) -> [String: JSONValue] {
        if case let .object(members)? = value { return members }
        return [:]
    }

    /// The contact's deals split into open and closed, with the open pipeline and the won amounts
    /// per currency.
    static func dealSummary(_ deals: JSONValue?, truncated: Bool) throws -> JSONValue {
        guard case let .array(items)? = deals else { return .null }
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
        if truncated { summary["truncated"] = .bool(true) }
        return .object(summary)
    }
}
