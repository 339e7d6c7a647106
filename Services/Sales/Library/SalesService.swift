import ServiceKit

/// The sales service: leads, deals, quotes, activities and forecasts. It owns the `sales` schema.
public enum SalesService {
    public static let definition = ServiceDefinition(name: "sales")
}
