import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceKit

/// One service behind the gateway, called over HTTP with a deadline per request.
struct Upstream: Sendable {
    let name: String
    let baseURL: String
    let client: HTTPClient
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

        /// The answer with its body streamed to the client.
        var streamed: Response {
            Response(status: status, headers: headers, body: ResponseBody(asyncSequence: body))
        }
    }

    /// Sends the request on with `body`. A service that cannot be reached is a 503 problem, one
    /// that does not answer in time a 504.
    func forward(_ request: Request, body: HTTPClientRequest.Body?, caller: Caller, timeout: TimeAmount) async throws -> Answer {
        var outgoing = HTTPClientRequest(url: baseURL + request.uri.description)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for name in Self.forwardedRequestHeaders {
            if let value = request.headers[name] { outgoing.headers.add(name: name.rawName, value: value) }
        }
        outgoing.body = body
        return try await send(outgoing, caller: caller, timeout: timeout)
    }

    /// A GET of one of the service's read endpoints, its body read whole (at most `limit` bytes).
    func get(_ path: String, caller: Caller, timeout: TimeAmount, limit: Int = 8 << 20) async throws -> (status: Int, headers: HTTPFields, body: ByteBuffer) {
        let deadline = NIODeadline.now() + timeout
        let answer = try await send(HTTPClientRequest(url: baseURL + path), caller: caller, timeout: timeout)
        do {
            return (answer.status.code, answer.headers, try await answer.body.collect(upTo: limit))
        } catch where NIODeadline.now() >= deadline {
            throw Problem(.gatewayTimeout, slug: "upstream-timeout", detail: "the \(name) service did not answer within \(timeout.seconds) s")
        }
    }

    private func send(_ request: HTTPClientRequest, caller: Caller, timeout: TimeAmount) async throws -> Answer {
        var outgoing = request
        outgoing.headers.add(name: "X-Switchboard-Caller", value: "\(caller.id) \(caller.role.rawValue)")
        let answer: HTTPClientResponse
        do {
            answer = try await client.execute(outgoing, timeout: timeout, logger: logger)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Problem(.gatewayTimeout, slug: "upstream-timeout", detail: "the \(name) service did not answer within \(timeout.seconds) s")
        } catch {
            logger.warning("upstream unreachable", metadata: ["upstream": "\(name)", "error": "\(String(reflecting: error))"])
            throw Problem(
                .serviceUnavailable, slug: "upstream-unavailable", detail: "the \(name) service cannot be reached; try again shortly",
                headers: ["Retry-After": "2"]
            )
        }
        var headers = HTTPFields()
        for name in Self.forwardedResponseHeaders {
            if let value = answer.headers.first(name: name.rawName) { headers[name] = value }
        }
        return Answer(status: HTTPResponse.Status(code: Int(answer.status.code)), headers: headers, body: answer.body)
    }
}

extension TimeAmount {
    var seconds: Int64 { nanoseconds / 1_000_000_000 }
}
