import Hummingbird
import Metrics

/// Counts HTTP requests by method, route and status, and times them.
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        do {
            let response = try await next(request, context)
            status = response.status.code
            record(request, context: context, status: status, since: start)
            return response
        } catch let error as any HTTPResponseError {
            record(request, context: context, status: error.status.code, since: start)
            throw error
        } catch {
            record(request, context: context, status: 500, since: start)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: Int, since start: ContinuousClock.Instant) {
        let route = context.endpointPath ?? "unmatched"
        let dimensions = [("method", request.method.rawValue), ("route", route), ("status", String(status))]
        Counter(label: "switchboard_http_requests_total", dimensions: dimensions).increment()
        let elapsed = ContinuousClock.now - start
        Metrics.Timer(label: "switchboard_http_request_duration_seconds", dimensions: [("route", route)])
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
