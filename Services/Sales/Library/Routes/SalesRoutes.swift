import Foundation
import HTTPTypes
import Hummingbird
import Messaging
import NIOCore
import ServiceKit

/// The sales service's HTTP API; the gateway serves it to the public under the same paths.
extension SalesStores {
    func register(on router: Router<ServiceRequestContext>) {
        let api = router.group("/api/v1")

        api.get("/pipelines") { _, _ in try await pipelines.list().response() }
        api.post("/pipelines") { request, context in
            let input = try await request.decodeJSON(NewPipeline.self, context: context)
            return try await pipelines.create(input).response(status: .created, location: "/api/v1/pipelines/")
        }
        api.get("/pipelines/:id") { _, context in try await pipelines.get(try context.uuidParameter("id")).response() }
        api.patch("/pipelines/:id") { request, context in
            let patch = try await request.decodeJSON(PipelinePatch.self, context: context)
            let version = try request.expectedVersion(bodyVersion: patch.version)
            return try await pipelines.update(try context.uuidParameter("id"), patch, expectedVersion: version).response()
        }
        api.post("/pipelines/:id/stages") { request, context in
            let input = try await request.decodeJSON(StageFields.self, context: context)
            return try await pipelines.addStage(to: try context.uuidParameter("id"), input).response(status: .created)
        }
        api.patch("/pipelines/:id/stages/:stage_id") { request, context in
            let input = try await request.decodeJSON(StageFields.self, context: context)
            return try await pipelines.updateStage(try context.uuidParameter("stage_id"), of: try context.uuidParameter("id"), input).response()
        }
        api.delete("/pipelines/:id/stages/:stage_id") { _, context in
            try await pipelines.retireStage(try context.uuidParameter("stage_id"), of: try context.uuidParameter("id")).response()
        }

        api.get("/lost-reasons") { _, _ in try await lostReasons.list().response() }
        api.post("/lost-reasons") { request, context in
            let input = try await request.decodeJSON(LostReasonFields.self, context: context)
            return APICoding.rawResponse(try await lostReasons.create(input), status: .created)
        }
        api.patch("/lost-reasons/:code") { request, context in
            let input = try await request.decodeJSON(LostReasonFields.self, context: context)
            return APICoding.rawResponse(try await lostReasons.update(context.parameters.get("code") ?? "", input))
        }

        api.get("/leads") { request, _ in try await leads.list(try await staff.filter(LeadFilter(request))).response() }
        api.post("/leads") { request, context in
            let input = try await request.decodeJSON(LeadFields.self, context: context)
            return try await leads.create(input).response(status: .created, location: "/api/v1/leads/")
        }
        api.get("/leads/:id") { _, context in try await leads.get(try context.uuidParameter("id")).response() }
        api.patch("/leads/:id") { request, context in
            let (patch, version) = try await request.mergePatch(context: context)
            return try await leads.update(try context.uuidParameter("id"), patch: patch, expectedVersion: version).response()
        }
        api.delete("/leads/:id") { request, context in
            let id = try context.uuidParameter("id")
            try await leads.delete(id, expectedVersion: request.headers[.ifMatch] == nil ? nil : try request.expectedVersion(bodyVersion: nil))
            return Response(status: .noContent)
        }
        api.post("/leads/:id/qualify") { request, context in
            let action = try await Self.body(LeadAction.self, of: request, context: context) ?? LeadAction()
            let version = try request.expectedVersion(bodyVersion: action.version)
            return try await leads.qualify(try context.uuidParameter("id"), expectedVersion: version).response()
        }
        api.post("/leads/:id/disqualify") { request, context in
            let action = try await Self.body(LeadAction.self, of: request, context: context) ?? LeadAction()
            let version = try request.expectedVersion(bodyVersion: action.version)
            return try await leads.disqualify(try context.uuidParameter("id"), reason: action.reason, expectedVersion: version).response()
        }
        api.post("/leads/:id/convert") { request, context in
            let conversion = try await Self.body(LeadConversion.self, of: request, context: context) ?? LeadConversion()
            // The version is optional here: converting again answers the conversion there is.
            let version = request.headers[.ifMatch] == nil ? conversion.version : try request.expectedVersion(bodyVersion: nil)
            let (lead, converted) = try await leads.convert(try context.uuidParameter("id"), conversion, expectedVersion: version)
            return try lead.response(status: converted ? .created : .ok)
        }

        api.get("/products") { request, _ in try await catalog.listProducts(ProductFilter(request)).response() }
        api.post("/products") { request, context in
            let input = try await request.decodeJSON(ProductFields.self, context: context)
            return try await catalog.createProduct(input).response(status: .created, location: "/api/v1/products/")
        }
        api.get("/products/:id") { _, context in try await catalog.product(try context.uuidParameter("id")).response() }
        api.patch("/products/:id") { request, context in
            let (patch, version) = try await request.mergePatch(context: context)
            return try await catalog.updateProduct(try context.uuidParameter("id"), patch: patch, expectedVersion: version).response()
        }
        api.get("/price-lists") { _, _ in try await catalog.listPriceLists().response() }
        api.post("/price-lists") { request, context in
            let input = try await request.decodeJSON(PriceListFields.self, context: context)
            return try await catalog.createPriceList(input).response(status: .created, location: "/api/v1/price-lists/")
        }
        api.get("/price-lists/:id") { _, context in try await catalog.priceList(try context.uuidParameter("id")).response() }
        api.patch("/price-lists/:id") { request, context in
            let input = try await request.decodeJSON(PriceListFields.self, context: context)
            let version = request.headers[.ifMatch] == nil ? nil : try request.expectedVersion(bodyVersion: nil)
            return try await catalog.updatePriceList(try context.uuidParameter("id"), input, expectedVersion: version).response()
        }
        api.put("/price-lists/:id/prices/:product_id") { request, context in
            let input = try await request.decodeJSON(PriceInput.self, context: context)
            guard let price = input.unitPrice else { throw Problem.validation([FieldError("unit_price", "is required")]) }
            return try await catalog.setPrice(price, of: try context.uuidParameter("product_id"), in: try context.uuidParameter("id")).response()
        }
        api.delete("/price-lists/:id/prices/:product_id") { _, context in
            try await catalog.setPrice(nil, of: try context.uuidParameter("product_id"), in: try context.uuidParameter("id")).response()
        }

        api.put("/deals/:id/lines") { request, context in
            let input = try await request.decodeJSON(DealLinesInput.self, context: context)
            let version = try request.expectedVersion(bodyVersion: input.version)
            return try await deals.setLines(try context.uuidParameter("id"), input, expectedVersion: version).response()
        }
        api.post("/deals/:id/order-request") { request, context in
            let input = try await request.decodeJSON(NewOrderRequest.self, context: context)
            return APICoding.rawResponse(
                try await orderRequests.request(deal: try context.uuidParameter("id"), input, by: request.callerId), status: .accepted
            )
        }
        api.post("/deals/:id/quotes") { request, context in
            let input = try await Self.body(QuoteRequest.self, of: request, context: context) ?? QuoteRequest()
            return try await quotes.create(for: try context.uuidParameter("id"), input).response(status: .created, location: "/api/v1/quotes/")
        }
        api.get("/quotes") { request, _ in try await quotes.list(QuoteFilter(request)).response() }
        api.get("/quotes/:id") { _, context in try await quotes.get(try context.uuidParameter("id")).response() }
        api.get("/quotes/:id/html") { _, context in
            let page = try QuotePage.render(try await quotes.get(try context.uuidParameter("id")))
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        api.post("/quotes/:id/send") { request, context in
            let action = try await Self.body(QuoteAction.self, of: request, context: context) ?? QuoteAction()
            return try await quotes.send(try context.uuidParameter("id"), expectedVersion: try Self.optionalVersion(request, action.version)).response()
        }
        api.post("/quotes/:id/accept") { request, context in
            let action = try await Self.body(QuoteAction.self, of: request, context: context) ?? QuoteAction()
            return try await quotes.accept(
                try context.uuidParameter("id"), markDealWon: action.markDealWon ?? true, expectedVersion: try Self.optionalVersion(request, action.version)
            ).response()
        }
        api.post("/quotes/:id/reject") { request, context in
            let action = try await Self.body(QuoteAction.self, of: request, context: context) ?? QuoteAction()
            return try await quotes.reject(
                try context.uuidParameter("id"), reason: action.reason, expectedVersion: try Self.optionalVersion(request, action.version)
            ).response()
        }

        api.get("/activities") { request, _ in try await activities.list(try await staff.filter(ActivityFilter(request))).response() }
        api.post("/activities") { request, context in
            let input = try await request.decodeJSON(ActivityFields.self, context: context)
            return try await activities.create(input).response(status: .created, location: "/api/v1/activities/")
        }
        api.get("/activities/:id") { _, context in try await activities.get(try context.uuidParameter("id")).response() }
        api.patch("/activities/:id") { request, context in
            let (patch, version) = try await request.mergePatch(context: context)
            return try await activities.update(try context.uuidParameter("id"), patch: patch, expectedVersion: version).response()
        }
        api.delete("/activities/:id") { request, context in
            let id = try context.uuidParameter("id")
            try await activities.delete(id, expectedVersion: request.headers[.ifMatch] == nil ? nil : try request.expectedVersion(bodyVersion: nil))
            return Response(status: .noContent)
        }
        api.post("/activities/:id/complete") { request, context in
            let completion = try await Self.body(ActivityCompletion.self, of: request, context: context) ?? ActivityCompletion()
            return try await activities.complete(
                try context.uuidParameter("id"), completion, expectedVersion: try Self.optionalVersion(request, completion.version)
            ).response()
        }

        api.get("/call-lists") { request, _ in try await callLists.list(try await staff.filter(CallListFilter(request))).response() }
        api.post("/call-lists") { request, context in
            let input = try await request.decodeJSON(CallListFields.self, context: context)
            return try await callLists.create(input).response(status: .created, location: "/api/v1/call-lists/")
        }
        api.get("/call-lists/:id") { _, context in try await callLists.get(try context.uuidParameter("id")).response() }
        api.get("/call-lists/:id/entries") { request, context in
            let id = try context.uuidParameter("id")
            var query = QueryReader(request)
            let toCall = query.string("to_call") == "true"
            let page = query.page([.text])
            try query.check()
            return try await callLists.entryPage(id, toCall: toCall, page: page).response()
        }
        api.post("/call-lists/:id/entries") { request, context in
            let input = try await request.decodeJSON(CallListFields.self, context: context)
            return try await callLists.addContacts(input.contactIds ?? [], to: try context.uuidParameter("id")).response()
        }
        api.post("/call-lists/:id/entries/:contact_id/calls") { request, context in
            let call = try await request.decodeJSON(ActivityCompletion.self, context: context)
            return try await callLists.recordCall(try context.uuidParameter("id"), contact: try context.uuidParameter("contact_id"), call)
                .response(status: .created, location: "/api/v1/activities/")
        }

        // For the gateway's customer overview (not a public route).
        api.get("/customers/:id/sales") { _, context in
            APICoding.rawResponse(try await customers.summary(of: try context.uuidParameter("id")))
        }

        api.get("/reports/funnel") { request, _ in APICoding.rawResponse(try await reports.funnel(try await staff.filter(.init(request)))) }
        api.get("/reports/open-deals") { request, _ in
            var query = QueryReader(request)
            var range = ReportStore.Range()
            range.pipeline = query.uuid("pipeline_id")
            range.owner = query.string("owner")
            try query.check()
            return APICoding.rawResponse(try await reports.openDeals(try await staff.filter(range)))
        }
        api.get("/reports/forecast") { request, _ in APICoding.rawResponse(try await reports.forecast(try await staff.filter(.init(request)))) }
        api.get("/reports/win-rate") { request, _ in
            var query = QueryReader(request)
            let range = ReportStore.Range(&query)
            let key = query.oneOf("by", ReportStore.WinRateKey.self) ?? .owner
            try query.check()
            return APICoding.rawResponse(try await reports.winRate(try await staff.filter(range), by: key))
        }
        api.get("/reports/lost-reasons") { request, _ in APICoding.rawResponse(try await reports.lostReasons(try await staff.filter(.init(request)))) }

        api.get("/deals") { request, _ in try await deals.list(try await staff.filter(DealFilter(request))).response() }
        api.post("/deals") { request, context in
            let input = try await request.decodeJSON(DealFields.self, context: context)
            return try await deals.create(input).response(status: .created, location: "/api/v1/deals/")
        }
        api.get("/deals/:id") { _, context in try await deals.get(try context.uuidParameter("id")).response() }
        api.patch("/deals/:id") { request, context in
            let (patch, version) = try await request.mergePatch(context: context)
            return try await deals.update(try context.uuidParameter("id"), patch: patch, expectedVersion: version).response()
        }
        api.delete("/deals/:id") { request, context in
            let id = try context.uuidParameter("id")
            try await deals.delete(id, expectedVersion: request.headers[.ifMatch] == nil ? nil : try request.expectedVersion(bodyVersion: nil))
            return Response(status: .noContent)
        }
        api.get("/deals/:id/history") { _, context in try await deals.stageHistory(try context.uuidParameter("id")).response() }
        action("stage") { id, action, version in try await deals.move(id, to: action.stageId, expectedVersion: version) }
        action("won") { id, action, version in try await deals.win(id, comment: action.comment, closedAt: action.closedAt, expectedVersion: version) }
        action("lost") { id, action, version in
            try await deals.lose(id, reason: action.reason, comment: action.comment, closedAt: action.closedAt, expectedVersion: version)
        }
        action("reopen") { id, action, version in try await deals.reopen(id, in: action.stageId, expectedVersion: version) }

        /// `POST /deals/:id/<name>`: the body (optional) carries the action's members and the
        /// version, which `If-Match` may carry instead.
        func action(_ name: String, _ body: @escaping @Sendable (UUID, DealAction, Int64) async throws -> Document) {
            api.post("/deals/:id/\(name)") { request, context in
                let id = try context.uuidParameter("id")
                let action = try await Self.body(DealAction.self, of: request, context: context) ?? DealAction()
                let version = try request.expectedVersion(bodyVersion: action.version)
                return try await body(id, action, version).response()
            }
        }
    }

    /// The body of an action, whose members are all optional: nil when there is none.
    static func body<T: Decodable>(_ type: T.Type, of request: Request, context: some RequestContext) async throws -> T? {
        try await request.optionalJSONBody(context: context).map { try APICoding.decode(T.self, from: $0) }
    }

    /// The version an action expects, when the client gives one (`If-Match` or `version`).
    static func optionalVersion(_ request: Request, _ bodyVersion: Int64?) throws -> Int64? {
        request.headers[.ifMatch] == nil && bodyVersion == nil ? nil : try request.expectedVersion(bodyVersion: bodyVersion)
    }
}

