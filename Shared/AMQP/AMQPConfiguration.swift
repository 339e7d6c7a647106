/// Where and as whom a connection logs in, and how it behaves when the broker goes away.
public struct AMQPConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var virtualHost: String
    /// Seconds; the broker and we each declare the peer dead after two missed intervals.
    public var heartbeat: Int
    /// Shown in the broker's connection list, so an operator can tell who is connected.
    public var connectionName: String
    public var reconnectDelay: ReconnectDelay

    public init(
        host: String = "127.0.0.1",
        port: Int = 5672,
        user: String,
        password: String,
        virtualHost: String = "/",
        heartbeat: Int = 10,
        connectionName: String = "switchboard",
        reconnectDelay: ReconnectDelay = .init()
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.virtualHost = virtualHost
        self.heartbeat = heartbeat
        self.connectionName = connectionName
        self.reconnectDelay = reconnectDelay
    }
}

/// Exponential back-off between reconnection attempts.
public struct ReconnectDelay: Sendable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    func after(attempt: Int) -> Duration {
        let factor = 1 << min(attempt, 16)
        return min(initial * factor, maximum)
    }
}
