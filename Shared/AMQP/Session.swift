import CAMQP
import Foundation

/// One rabbitmq-c connection with one channel. Not thread-safe: exactly one thread uses it from
/// `open` to `close` (rabbitmq-c's own rule), which is why it is neither `Sendable` nor public.
final class Session {
    let configuration: AMQPConfiguration
    private let state: amqp_connection_state_t
    private let channel: amqp_channel_t = 1
    private var isClosed = false

    private init(configuration: AMQPConfiguration, state: amqp_connection_state_t) {
        self.configuration = configuration
        self.state = state
    }

    deinit {
        if !isClosed { amqp_destroy_connection(state) }
    }

    /// Connects, logs in and opens channel 1.
    static func open(_ configuration: AMQPConfiguration) throws(AMQPError) -> Session {
        let endpoint = "\(configuration.host):\(configuration.port)"
        guard let state = amqp_new_connection() else {
            throw .connectionFailed(endpoint: endpoint, reason: "cannot allocate a connection")
        }
        let session = Session(configuration: configuration, state: state)
        guard let socket = amqp_tcp_socket_new(state) else {
            throw .connectionFailed(endpoint: endpoint, reason: "cannot allocate a socket")
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        let opened = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &timeout)
        guard opened == AMQP_STATUS_OK.rawValue else {
            throw .connectionFailed(endpoint: endpoint, reason: describeStatus(opened))
        }
        var rpcTimeout = timeval(tv_sec: 10, tv_usec: 0)
        amqp_set_rpc_timeout(state, &rpcTimeout)
        let arena = CArena()
        var clientProperties = arena.table([
            "connection_name": .string(configuration.connectionName),
            "product": "switchboard",
            "capabilities": .table(["publisher_confirms": true, "consumer_cancel_notify": true]),
        ])
        let login = camqp_login_plain(
            state, configuration.virtualHost, 1, 131_072, Int32(configuration.heartbeat), &clientProperties,
            configuration.user, configuration.password
        )
        guard login.reply_type == AMQP_RESPONSE_NORMAL else {
            throw .loginFailed(user: configuration.user, virtualHost: configuration.virtualHost, reason: describe(login))
        }
        amqp_channel_open(state, session.channel)
        try session.check("channel.open")
        return session
    }

    var socketDescriptor: Int32 { amqp_get_sockfd(state) }

    /// True when rabbitmq-c already holds bytes or frames that a poll of the socket would not show.
    var hasBufferedInput: Bool { amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 }

    private func check(_ operation: String) throws(AMQPError) {
        let reply = amqp_get_rpc_reply(state)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw .operationFailed(operation: operation, reason: describe(reply))
        }
    }

    private func checkStatus(_ status: Int32, _ operation: String) throws(AMQPError) {
        guard status == AMQP_STATUS_OK.rawValue else {
            throw .operationFailed(operation: operation, reason: describeStatus(status))
        }
    }

    func declare(_ topology: Topology) throws(AMQPError) {
        for exchange in topology.exchanges {
            let arena = CArena()
            amqp_exchange_declare(
                state, channel, arena.bytes(exchange.name), arena.bytes(exchange.type), exchange.passive ? 1 : 0,
                exchange.durable ? 1 : 0, 0, 0, exchange.passive ? amqp_empty_table : arena.table(exchange.arguments)
            )
            try check("exchange.declare '\(exchange.name)'")
        }
        for queue in topology.queues {
            let arena = CArena()
            amqp_queue_declare(
                state, channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0, 0, 0, arena.table(queue.arguments)
            )
            try check("queue.declare '\(queue.name)'")
        }
        for binding in topology.bindings {
            let arena = CArena()
            amqp_queue_bind(
                state, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                arena.bytes(binding.routingKey), amqp_empty_table
            )
            try check("queue.bind '\(binding.queue)' to '\(binding.exchange)' with '\(binding.routingKey)'")
        }
    }

    private var confirmsEnabled = false

    func deleteQueue(_ name: String) throws(AMQPError) {
        let arena = CArena()
        amqp_queue_delete(state, channel, arena.bytes(name), 0, 0)
        try check("queue.delete '\(name)'")
    }

    func deleteExchange(_ name: String) throws(AMQPError) {
        let arena = CArena()
        amqp_exchange_delete(state, channel, arena.bytes(name), 0)
        try check("exchange.delete '\(name)'")
    }

    func enableConfirms() throws(AMQPError) {
        amqp_confirm_select(state, channel)
        try check("confirm.select")
        confirmsEnabled = true
    }

    func enableConfirmsOnce() throws(AMQPError) {
        if !confirmsEnabled { try enableConfirms() }
    }

    /// Prefetch per consumer (global = 0): quorum queues refuse a global limit.
    func qos(prefetch: UInt16) throws(AMQPError) {
        amqp_basic_qos(state, channel, 0, prefetch, 0)
        try check("basic.qos")
    }

    func consume(queue: String) throws(AMQPError) {
        let arena = CArena()
        amqp_basic_consume(state, channel, arena.bytes(queue), camqp_bytes(nil, 0), 0, 0, 0, amqp_empty_table)
        try check("basic.consume '\(queue)'")
    }

    func publish(_ message: OutgoingMessage) throws(AMQPError) {
        let arena = CArena()
        var properties = arena.properties(message.properties)
        let status = amqp_basic_publish(
            state, channel, arena.bytes(message.exchange), arena.bytes(message.routingKey),
            message.mandatory ? 1 : 0, 0, &properties, arena.bytes(message.body)
        )
        try checkStatus(status, "basic.publish to '\(message.exchange)' with '\(message.routingKey)'")
    }

    /// With `multiple`, every unacknowledged delivery up to and including `tag`.
    func ack(_ tag: UInt64, multiple: Bool = false) throws(AMQPError) {
        try checkStatus(amqp_basic_ack(state, channel, tag, multiple ? 1 : 0), "basic.ack")
    }

    func nack(_ tag: UInt64, requeue: Bool) throws(AMQPError) {
        try checkStatus(amqp_basic_nack(state, channel, tag, 0, requeue ? 1 : 0), "basic.nack")
    }

    /// basic.get: one message from `queue`, or nil when it is empty.
    func get(queue: String, generation: Int) throws(AMQPError) -> Delivery? {
        let arena = CArena()
        let reply = amqp_basic_get(state, channel, arena.bytes(queue), 0)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw .operationFailed(operation: "basic.get '\(queue)'", reason: describe(reply))
        }
        guard reply.reply.id == CAMQP_BASIC_GET_OK, let decoded = reply.reply.decoded else { return nil }
        let ok = decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        let (properties, body) = try readContent(operation: "basic.get '\(queue)'")
        return Delivery(
            exchange: ok.exchange.string, routingKey: ok.routing_key.string, redelivered: ok.redelivered != 0,
            body: body, properties: properties, deliveryTag: ok.delivery_tag, connectionGeneration: generation
        )
    }

    private func readContent(operation: String) throws(AMQPError) -> (MessageProperties, [UInt8]) {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, channel, &message, 0)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw .operationFailed(operation: "\(operation) content", reason: describe(reply))
        }
        defer { amqp_destroy_message(&message) }
        return (message.properties.swiftProperties, message.body.array)
    }

    enum Event {
        case ack(tag: UInt64, multiple: Bool)
        case nack(tag: UInt64, multiple: Bool)
        case returned(messageId: String?, replyCode: Int, replyText: String)
        case delivery(Delivery)
        case cancelled
        case timeout
    }

    /// Reads one frame without blocking (which also sends a heartbeat when one is due).
    func nextEvent(generation: Int) throws(AMQPError) -> Event {
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return .timeout }
        try checkStatus(status, "reading a frame")
        defer { amqp_maybe_release_buffers(state) }
        guard Int32(frame.frame_type) == AMQP_FRAME_METHOD else { return .timeout }
        let method = frame.payload.method
        switch method.id {
        case CAMQP_BASIC_ACK:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .ack(tag: ack.delivery_tag, multiple: ack.multiple != 0)
        case CAMQP_BASIC_NACK:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .nack(tag: nack.delivery_tag, multiple: nack.multiple != 0)
        case CAMQP_BASIC_RETURN:
            let returned = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let code = Int(returned.reply_code)
            let text = returned.reply_text.string
            let (properties, _) = try readContent(operation: "basic.return")
            return .returned(messageId: properties.messageId, replyCode: code, replyText: text)
        case CAMQP_BASIC_DELIVER:
            let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let exchange = deliver.exchange.string
            let routingKey = deliver.routing_key.string
            let (properties, body) = try readContent(operation: "basic.deliver")
            return .delivery(
                Delivery(
                    exchange: exchange, routingKey: routingKey, redelivered: deliver.redelivered != 0, body: body,
                    properties: properties, deliveryTag: deliver.delivery_tag, connectionGeneration: generation
                )
            )
        case CAMQP_BASIC_CANCEL:
            return .cancelled
        case CAMQP_CHANNEL_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            throw .operationFailed(
                operation: "channel", reason: "broker closed the channel: \(close.reply_code) \(close.reply_text.string)"
            )
        case CAMQP_CONNECTION_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw .operationFailed(
                operation: "connection",
                reason: "broker closed the connection: \(close.reply_code) \(close.reply_text.string)"
            )
        default:
            return .timeout
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS)
        amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        amqp_destroy_connection(state)
    }

    /// Drops the connection without the closing handshake (the socket is already gone).
    func abandon() {
        guard !isClosed else { return }
        isClosed = true
        amqp_destroy_connection(state)
    }
}
