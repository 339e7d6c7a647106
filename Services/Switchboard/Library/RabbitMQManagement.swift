import AMQP
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import ServiceKit

/// The RabbitMQ management HTTP API as the administrator: what `switchboard erp` needs to give
/// an outside system its own user, permissions and queue at run time (the services' users come
/// from `broker definitions` instead). `SWITCHBOARD_AMQP_MANAGEMENT_URL`, by default port 15672 of
/// the AMQP host.
struct RabbitMQManagement {
    let base: String
    let vhost: String
    let authorization: String

    init(environment: SwitchboardEnvironment = SwitchboardEnvironment()) {
        let broker = environment.broker(defaultUser: "switchboard_admin", connectionName: "switchboard operator")
        base = environment.string("amqp.management.url", default: "http://\(broker.host):15672")
        vhost = broker.virtualHost
        authorization = "Basic " + Data("\(broker.user):\(broker.password)".utf8).base64EncodedString()
    }

    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? text
    }

    var vhostPath: String { Self.pathComponent(vhost) }

    /// Sends a request; a status outside 2xx (but `allowing`) is an error with the broker's words.
    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil, allowing: Set<UInt> = []) async throws -> (status: UInt, body: Any?) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Content-Type", value: "application/json")
        if let body { request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body))) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let status = response.status.code
        let json = bytes.readableBytes > 0 ? try? JSONSerialization.jsonObject(with: Data(buffer: bytes)) : nil
        guard (200..<300).contains(status) || allowing.contains(status) else {
            throw ManagementError("\(method.rawValue) \(path): \(status) \(String(buffer: bytes).prefix(300))")
        }
        return (status, json)
    }
}

struct ManagementError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
