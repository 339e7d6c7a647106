/// What went wrong talking to the broker; every case names the operation or object involved.
public enum AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// TCP connect or socket set-up failed.
    case connectionFailed(endpoint: String, reason: String)
    /// The broker refused the login or the virtual host.
    case loginFailed(user: String, virtualHost: String, reason: String)
    /// An operation on an open connection failed (declare, consume, publish …).
    case operationFailed(operation: String, reason: String)
    /// The connection dropped while a publish awaited its confirm: it may or may not have been routed.
    case connectionLost(reason: String)
    /// The broker refused the message (basic.nack).
    case nacked(exchange: String, routingKey: String)
    /// A mandatory message matched no queue (basic.return).
    case returned(exchange: String, routingKey: String, replyCode: Int, replyText: String)
    /// The publisher or consumer was closed before the operation finished.
    case closed

    public var description: String {
        switch self {
        case let .connectionFailed(endpoint, reason): "AMQP connect to \(endpoint) failed: \(reason)"
        case let .loginFailed(user, vhost, reason): "AMQP login as '\(user)' to vhost '\(vhost)' failed: \(reason)"
        case let .operationFailed(operation, reason): "AMQP \(operation) failed: \(reason)"
        case let .connectionLost(reason): "AMQP connection lost before the broker confirmed: \(reason)"
        case let .nacked(exchange, key): "broker nacked the message to '\(exchange)' with key '\(key)'"
        case let .returned(exchange, key, code, text):
            "message to '\(exchange)' with key '\(key)' was returned as unroutable (\(code) \(text))"
        case .closed: "AMQP client closed"
        }
    }
}
