import Storage
import ServiceKit

/// The erp_bridge service: orders from back-office systems and customer master data back to the ERP. It owns the `erp_bridge` schema.
public enum ERPBridgeService {
    public static let definition = ServiceDefinition(name: "erp_bridge", sql: SQLFiles(EmbeddedSQL.files))
}
