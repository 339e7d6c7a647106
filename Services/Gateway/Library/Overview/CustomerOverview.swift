import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceKit

/// `GET /api/v1/customers/{id}/overview`: the contact, its account, its latest
/// interactions, its deals and open activities, its latest orders and open alerts. It is one read
/// of each service, all asked at once with a deadline each (contacts: `/contacts/{id}/summary`;
/// sales: `/customers/{id}/sales`; the ERP bridge: `/customers/{id}/order-summary`). Each service answers its members of the overview already in their
/// final shape, so the gateway splices the two objects together without reading them, as it
/// passes every other answer on. A service that is down or slow leaves its part empty and says
/// so in `sources`; the answer still comes (200), unless the contacts service answers that the
/// contact does not exist (404).
struct CustomerOverview: Sendable {
    let contacts: Upstream
    let sales: Upstream
    let erp: Upstream
    let timeout: Duration
    let logger: Logger

    /// What one part of the overview got from its service.
    enum Part {
        /// The members of the object the service answered, without its braces.
        case found(members: ByteBuffer, headers: HTTPFields)
        case missing(reason: String, detail: String)
    }

    /// The members a part stands for when its service did not answer.
    static let contactsMissing = #""contact":null,"account":null,"interactions":[]"#
    static let salesMissing = #""deals":null,"activities":null"#
    static let erpMissing = #""orders":null,"open_alerts":null"#

    /// The overview as JSON.
    func answer(_ contactId: UUID, caller: Caller) async throws -> ByteBuffer {
        let id = contactId.lowercased
        async let contactsPart = part(contacts, "/api/v1/contacts/\(id)/summary", caller: caller)
        async let salesPart = part(sales, "/api/v1/customers/\(id)/sales", caller: caller)
        async let erpPart = part(erp, "/api/v1/customers/\(id)/order-summary", caller: caller)
        let people = try await contactsPart
        var deals = try await salesPart
        var orders = try await erpPart
        // A merged id answers with its survivor, whose deals and orders the services now keep under the survivor's id.
        if case let .found(_, headers) = people, let location = headers[.contentLocation],
            let survivor = location.split(separator: "/").last.map(String.init), survivor != id
        {
            async let survivorDeals = part(sales, "/api/v1/customers/\(survivor)/sales", caller: caller)
            async let survivorOrders = part(erp, "/api/v1/customers/\(survivor)/order-summary", caller: caller)
            (deals, orders) = (try await survivorDeals, try await survivorOrders)
        }

        var sources: [String: [String: String]] = [:]
        var body = ByteBuffer(string: "{")
        for (name, part, missing) in [
            ("contacts", people, Self.contactsMissing), ("sales", deals, Self.salesMissing), ("erp_bridge", orders, Self.erpMissing),
        ] {
            switch part {
            case let .found(members, _):
                sources[name] = ["status": "ok"]
                var members = members
                body.writeBuffer(&members)
                body.writeString(",")
            case let .missing(reason, detail):
                sources[name] = ["status": reason, "detail": detail]
                body.writeString(missing + ",")
            }
        }
        body.writeString(#""sources":"#)
        body.writeBytes(try APICoding.encoder.encode(sources))
        body.writeString("}")
        return body
    }

    /// One service's answer to one read. A 404 is the contact's absence (the whole overview's
    /// 404); a service that cannot be reached, is too slow, fails or answers something other than
    /// a braced object with members is a missing part.
    private func part(_ upstream: Upstream, _ path: String, caller: Caller) async throws -> Part {
        do {
            let (status, headers, body) = try await upstream.get(path, caller: caller, timeout: timeout)
            switch status {
            case 200:
                guard let members = Self.members(of: body) else {
                    return .missing(reason: "failed", detail: "the \(upstream.name) service answered something other than its part")
                }
                return .found(members: members, headers: headers)
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
        } catch let problem as Problem where problem.statusCode == 404 {
            throw problem
        } catch {
            // A body cut off or too large: the part is missing, the overview still answers.
            logger.warning("overview part failed", metadata: ["upstream": "\(upstream.name)", "path": "\(path)", "error": "\(String(reflecting: error))"])
            return .missing(reason: "failed", detail: "the \(upstream.name) service's answer could not be read")
        }
    }

    /// What lies between the outer braces of a service's answer; nil when it is not braced or
    /// holds nothing (the part is then missing). Only the braces are checked: the services are
    /// ours and build these objects in PostgreSQL, as the gateway trusts every answer it passes on.
    static func members(of body: ByteBuffer) -> ByteBuffer? {
        let bytes = body.readableBytesView
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }),
            first < last, bytes[first] == UInt8(ascii: "{"), bytes[last] == UInt8(ascii: "}")
        else { return nil }
        let inner = bytes[(first + 1)..<last]
        return inner.contains(where: { !isSpace($0) }) ? ByteBuffer(inner) : nil
    }
}
