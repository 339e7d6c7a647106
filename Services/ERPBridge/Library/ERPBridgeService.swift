import Contracts
import Messaging
import ServiceKit
import Storage

/// The ERP bridge: orders from back-office systems in, answers and customer master data out
/// (Services/ERPBridge/asyncapi.yaml), orders for the API. It owns the `erp_bridge` schema.
public enum ERPBridgeService {
    public static let definition = ServiceDefinition(
        name: "erp_bridge",
        eventPrefix: ERPEvents.producer,
        sql: SQLFiles(EmbeddedSQL.files),
        handlers: { dependencies in
            let stores = ERPBridgeStores(dependencies)
            return stores.replica.handlers + [stores.prospects.handler, OrderRequestHandler(service: dependencies).handler]
        },
        routes: { router, dependencies in ERPBridgeStores(dependencies).register(on: router) },
        intake: { dependencies in ERPBridgeStores(dependencies).intake },
        brokerExtras: BrokerExtras(
            queues: [ERPIntake.queueName],
            readExchanges: [(CRMTopology.erpInboundExchange, "^#$")],
            // Answers only, to whichever source: `<source>.ack`, `.customer`, `.order_request`, `.reconciliation`.
            writeExchanges: [(CRMTopology.erpOutboundExchange, "^[a-z][a-z0-9_]*\\.(ack|customer|order_request|reconciliation)$")]
        )
    )
}
