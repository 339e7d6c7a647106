import ServiceKit

/// The gateway service: the public HTTP API. It owns the `gateway` schema.
public enum GatewayService {
    public static let definition = ServiceDefinition(name: "gateway")
}
