import Foundation
import HTTPTypes
import Messaging
import Hummingbird
import ServiceKit

/// The orders the ERPs published (the ERP bridge's API): the list, one order with its lines and
/// status history, and the suspicious-transaction alerts, each acknowledged or dismissed with a
/// comment.
struct OrderPages: Sendable {
    let access: WebAccess
    let api: ServiceAPI
    let users: UserStore

    var renderer: PageRenderer { access.renderer }
    static let statuses = ["placed", "confirmed", "shipped", "delivered", "invoiced", "paid", "cancelled", "returned"]
    static let rules = ["order_burst", "unusual_amount", "possible_duplicate", "credit_exposure", "pays_after_dunning", "impossible_sequence"]

    func register(on router: Router<ServiceRequestContext>) {
        access.page(router, .get, "/orders") { request, _, visit in
            let query = request.uri.queryParameters
            let status = query.get("status")?.trimmed.nonEmpty
            let source = query.get("source")?.trimmed.nonEmpty
            let answer = try await api.call(
                .get, "/api/v1/orders", query: [("status", status), ("source", source), ("limit", "100"), ("cursor", query.get("cursor"))],
                as: visit.caller
            )
            let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
            var values = visit.values
            values["statuses"] = Self.statuses.map { ["value": $0, "selected": $0 == status] }
            values["source"] = source ?? ""
            values["orders"] = (answer.json["items"]?.array ?? []).map { Self.summary($0, zone) }
            if let next = answer.json["next_cursor"]?.string {
                values["next"] = StaffPages.query(["status": status, "source": source, "cursor": next].compactMapValues { $0 })
            }
            if !answer.ok { values["error"] = answer.message }
            return renderer.page("orders", values, status: answer.ok ? .ok : .badRequest)
        }
        access.page(router, .get, "/orders/:id") { _, context, visit in
            let id = try context.uuidParameter("id").lowercased
            async let orderRead = api.get("/api/v1/orders/{id}", ["id": id], as: visit.caller)
            async let alertsRead = api.get("/api/v1/alerts", query: [("order_id", id)], as: visit.caller)
            let (order, alerts) = try await (orderRead, alertsRead)
            let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
            var values = visit.values.merging(Self.summary(order, zone)) { $1 }
            values["customerName"] = order["customer"]?["name"]?.string ?? ""
            values["customerLink"] = order["contact_id"]?.string.map { "/contacts/\($0)" } ?? order["account_id"]?.string.map { "/accounts/\($0)" }
            values["lines"] = (order["lines"]?.array ?? []).map { line -> [String: Any] in
                StaffPages.compact([
                    "no": line["line_no"]?.number.map { Int($0) } ?? 0, "sku": line["sku"]?.string ?? "", "description": line["description"]?.string ?? "",
                    "quantity": line["quantity"]?.string ?? "", "delivered": line["delivered_quantity"]?.string ?? "",
                    "price": line["unit_price"]?.string ?? "", "total": line["line_total"]?.string ?? "",
                    "serials": line["serial_numbers"]?.array?.compactMap(\.string).joined(separator: ", ").nonEmpty,
                ])
            }
            values["history"] = (order["status_history"]?.array ?? []).map { change -> [String: Any] in
                ["version": change["version"]?.number.map { Int($0) } ?? 0, "status": change["status"]?.string ?? "",
                 "at": StaffPages.local(change["status_at"]?.string, zone)]
            }
            if let payment = order["payment"], payment != .null {
                values["payment"] = StaffPages.compact([
                    "terms": payment["terms_days"]?.number.map { "\(Int($0)) days" }, "due": payment["due_at"]?.string.map { StaffPages.local($0, zone) },
                    "paid": payment["paid_at"]?.string.map { StaffPages.local($0, zone) },
                    "dunning": payment["dunning_level"]?.number.map { "level \(Int($0))" },
                ])
            }
            values["alerts"] = try await alertValues(alerts["items"]?.array ?? [], zone)
            return renderer.page("order", values)
        }
        access.page(router, .get, "/alerts") { request, _, visit in try await alertList(request, visit, error: nil) }
        for action in ["acknowledge", "dismiss"] {
            access.page(router, .post, "/alerts/:id/\(action)", allowed: { Permission.writeSales.allows($0) }) { request, context, visit in
                let id = try context.uuidParameter("id").lowercased
                let answer = try await api.call(
                    .post, "/api/v1/alerts/{id}/\(action)", ["id": id], body: .object(["comment": .string(visit.form["comment"] ?? "")]),
                    as: visit.caller
                )
                guard answer.ok else { return try await alertList(request, visit, error: answer.message) }
                throw PageOutcome.redirect(request.headers[.referer].flatMap(DealPages.localPath) ?? "/alerts")
            }
        }
    }

    private func alertList(_ request: Request, _ visit: WebAccess.Visit, error: String?) async throws -> Response {
        let query = request.uri.queryParameters
        let status = query.get("status")?.trimmed.nonEmpty ?? "open"
        let rule = query.get("rule")?.trimmed.nonEmpty
        let customer = query.get("customer_id")?.trimmed.nonEmpty
        let answer = try await api.call(
            .get, "/api/v1/alerts",
            query: [("status", status), ("rule", rule), ("customer_id", customer), ("limit", "100"), ("cursor", query.get("cursor"))],
            as: visit.caller
        )
        let zone = TimeZone(identifier: visit.session.timeZone) ?? .gmt
        var values = visit.values
        values["statuses"] = ["open", "acknowledged", "dismissed"].map { ["value": $0, "selected": $0 == status] }
        values["rules"] = Self.rules.map { ["value": $0, "label": $0.replacingOccurrences(of: "_", with: " "), "selected": $0 == rule] }
        values["canDecide"] = Permission.writeSales.allows(visit.session.role)
        values["alerts"] = try await alertValues(answer.json["items"]?.array ?? [], zone)
        if let next = answer.json["next_cursor"]?.string {
            values["next"] = StaffPages.query(["status": status, "rule": rule, "customer_id": customer, "cursor": next].compactMapValues { $0 })
        }
        let shown = error ?? (answer.ok ? nil : answer.message)
        if let shown { values["error"] = shown }
        return renderer.page("alerts", values, status: shown == nil ? .ok : .unprocessableContent)
    }

    private func alertValues(_ alerts: [JSONValue], _ zone: TimeZone) async throws -> [[String: Any]] {
        let staff = try await users.names()
        return alerts.map { alert -> [String: Any] in
            let status = alert["status"]?.string ?? ""
            return StaffPages.compact([
                "id": alert["id"]?.string ?? "", "rule": (alert["rule"]?.string ?? "").replacingOccurrences(of: "_", with: " "),
                "score": alert["score"]?.number.map { String(format: "%.0f", $0) } ?? "", "reasons": alert["reasons"]?.array?.compactMap(\.string) ?? [],
                "orderId": alert["order_id"]?.string ?? "", "orderNumber": alert["order_number"]?.string ?? "",
                "source": alert["source"]?.string ?? "", "customer": alert["erp_customer_id"]?.string ?? "",
                "customerLink": alert["contact_id"]?.string.map { "/contacts/\($0)" } ?? alert["account_id"]?.string.map { "/accounts/\($0)" },
                "raised": StaffPages.local(alert["raised_at"]?.string, zone), "status": status, "open": status == "open",
                "comment": alert["comment"]?.string, "decidedBy": alert["decided_by"]?.string.map { staff[$0] ?? $0 },
            ])
        }
    }

    /// An order as the lists and cards show it.
    static func summary(_ order: JSONValue, _ zone: TimeZone) -> [String: Any] {
        let gross = order["totals"]?["gross"]?.string ?? ""
        return [
            "id": order["id"]?.string ?? "", "number": order["order_number"]?.string ?? "", "source": order["source"]?.string ?? "",
            "status": order["status"]?.string ?? "", "gross": "\(gross) \(order["currency"]?.string ?? "")",
            "ordered": StaffPages.local(order["ordered_at"]?.string, zone, format: "d MMM yyyy"),
            "version": order["version"]?.number.map { Int($0) } ?? 0, "customer": order["erp_customer_id"]?.string ?? "",
            "matchedBy": (order["matched_by"]?.string ?? "").replacingOccurrences(of: "_", with: " "),
        ]
    }
}
