import Foundation
import Hummingbird
import ServiceKit

/// The ERP bridge's HTTP API; the gateway serves it to the public under the same paths.
extension ERPBridgeStores {
    func register(on router: Router<ServiceRequestContext>) {
        let api = router.group("/api/v1")
        api.get("/orders") { request, _ in try await orders.list(try OrderFilter(request)).response() }
        api.get("/orders/:id") { _, context in try await orders.get(try context.uuidParameter("id")).response() }
        api.get("/customers/:id/orders") { request, context in
            let customer = try context.uuidParameter("id")
            return try await orders.list(ofCustomer: customer, try OrderFilter(request, customer: customer)).response()
        }
        api.get("/erp-sources") { _, _ in try await orders.activeSources().response() }
        api.get("/deals/:id/order-requests") { _, context in try await orders.requests(deal: try context.uuidParameter("id")).response() }

        // For the gateway's customer overview (not a public route).
        api.get("/customers/:id/order-summary") { _, context in
            APICoding.rawResponse(try await orders.summary(of: try context.uuidParameter("id")))
        }

        // For the portal's order status page, reached without an account (not a public route).
        api.get("/order-status") { request, _ in
            let query = request.uri.queryParameters
            return try await orders.status(number: query.get("order_number") ?? "", email: query.get("email") ?? "").response()
        }

        api.get("/alerts") { request, _ in try await alerts.list(try AlertFilter(request)).response() }
        api.get("/alerts/:id") { _, context in try await alerts.get(try context.uuidParameter("id")).response() }
        for (action, status) in [("acknowledge", AlertStatus.acknowledged), ("dismiss", .dismissed)] {
            api.post("/alerts/:id/\(action)") { request, context in
                let decision = try await request.decodeJSON(AlertDecision.self, context: context)
                return try await alerts.decide(try context.uuidParameter("id"), status, decision, by: request.callerId).response()
            }
        }
        api.get("/alert-settings") { _, _ in APICoding.rawResponse(try await alerts.settings().text) }
        api.patch("/alert-settings") { request, context in
            let patch = try await request.decodeJSON(AlertSettingsPatch.self, context: context)
            return APICoding.rawResponse(try await alerts.updateSettings(patch).text)
        }
    }
}
