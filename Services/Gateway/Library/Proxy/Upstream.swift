import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceKit
import Storage

/// One service behind the gateway, called over HTTP with a deadline per request and the
/// gateway's credential (without which the service answers nothing but its health).
struct Upstream: Sendable {
    let name: String
    let baseURL: String
    let client: HTTPClient
    /// `SWITCHBOARD_GATEWAY_TOKEN`, sent on every call.
    let token: String
    let logger: Logger

    /// Headers a client's request carries on to the service.
    static let forwardedRequestHeaders: [HTTPField.Name] = [.contentType, .accept, .ifMatch]
    /// Headers of the service's answer the client gets.
    static let forwardedResponseHeaders: [HTTPField.Name] = [
        .contentType, .eTag, .location, .contentLocation, .contentDisposition, .retryAfter,
    ]

    /// The service's answer: what of its head the client gets, and its body still to be read.
    struct Answer {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: HTTPClientResponse.Body

        /// The answer with its body streamed to the client (an export, an error report): AsyncHTTPClient's
        /// read timeout ends a body that stalls.
        var streamed: Response {
            Response(status: status, headers: headers, body: ResponseBody(asyncSequence: body))
        }
    }

    /// Sends the request on with `body` and `requestKey` (the service's request ledger key, for an
    /// idempotent request), answering within `timeout`. A service that cannot be reached is a 503
    /// problem, one that does not answer in time a 504.
    func forward(
        _ request: Request, body: HTTPClientRequest.Body?, caller: Caller, timeout: Duration, requestKey: String? = nil
    ) async throws -> Answer {
        var outgoing = HTTPClientRequest(url: baseURL + request.uri.description)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for name in Self.forwardedRequestHeaders {
            if let value = request.headers[name] { outgoing.headers.add(name: name.rawName, value: value) }
        }
        if let requestKey { outgoing.headers.add(name: RequestLedger.keyHeader, value: requestKey) }
        outgoing.body = body
        return try await send(outgoing, caller: caller, timeout: timeout)
    }

    /// The answer with its whole body (at most `limit` bytes), all within `timeout`.
    func collect(
        _ answer: Answer, within timeout: Duration, limit: Int = 8 << 20
    ) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        let body = answer.body
        do {
            let bytes = try await abandonable(limit: timeout) { try await body.collect(upTo: limit) }
            return (answer.status, answer.headers, bytes)
        } catch is DeadlineExceeded {
            throw timedOut(timeout)
        } catch is NIOTooManyBytesError {
            throw Problem(.badGateway, slug: "upstream-answer-too-large", detail: "the \(name) service answered more than \(limit) bytes")
        } catch let error as Problem {
            throw error
        } catch {
            throw unreachable(error)
        }
    }

    /// A GET of one of the service's read endpoints, its body read whole, all within `timeout`.
    func get(_ path: String, caller: Caller, timeout: Duration, limit: Int = 8 << 20) async throws -> (status: Int, headers: HTTPFields, body: ByteBuffer) {
        let start = ContinuousClock.now
        let answer = try await send(HTTPClientRequest(url: baseURL + path), caller: caller, timeout: timeout)
        let read = try await collect(answer, within: max(.milliseconds(1), timeout - (ContinuousClock.now - start)), limit: limit)
        return (read.status.code, read.headers, read.body)
    }

    func send(_ request: HTTPClientRequest, caller: Caller, timeout: Duration) async throws -> Answer {
        var outgoing = request
        outgoing.headers.add(name: "X-Switchboard-Caller", value: "\(caller.id) \(caller.role.rawValue)")
        outgoing.headers.add(name: GatewayCredential.header, value: token)
        // The service gives up at the same moment, rather than work on for an answer nobody awaits.
        outgoing.headers.add(name: RequestDeadline.header, value: "\(timeout.milliseconds)")
        let answer: HTTPClientResponse
        do {
            answer = try await client.execute(outgoing, timeout: .milliseconds(timeout.milliseconds), logger: logger)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw timedOut(timeout)
        } catch {
            throw unreachable(error)
        }
        var headers = HTTPFields()
        for name in Self.forwardedResponseHeaders {
            if let value = answer.headers.first(name: name.rawName) { headers[name] = value }
        }
        return Answer(status: HTTPResponse.Status(code: Int(answer.status.code)), headers: headers, body: answer.body)
    }

    private func timedOut(_ timeout: Duration) -> Problem {
        Problem(.gatewayTimeout, slug: "upstream-timeout", detail: "the \(name) service did not answer within \(timeout.milliseconds / 1000) s")
    }

    private func unreachable(_ error: any Error) -> Problem {
        logger.warning("upstream unreachable", metadata: ["upstream": "\(name)", "error": "\(String(reflecting: error))"])
        return Problem(
            .serviceUnavailable, slug: "upstream-unavailable", detail: "the \(name) service cannot be reached; try again shortly",
            headers: ["Retry-After": "2"]
        )
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
