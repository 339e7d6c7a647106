import CAMQP
import Foundation

/// C memory for one call into rabbitmq-c: strings and field tables live until the arena is freed.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    deinit {
        for pointer in allocations { free(pointer) }
    }

    private func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let pointer = malloc(max(size, 1))!
        allocations.append(pointer)
        return pointer
    }

    func bytes(_ string: String) -> amqp_bytes_t {
        bytes(Array(string.utf8))
    }

    func bytes(_ array: [UInt8]) -> amqp_bytes_t {
        let pointer = allocate(array.count)
        array.withUnsafeBytes { source in
            if let base = source.baseAddress { pointer.copyMemory(from: base, byteCount: array.count) }
        }
        return camqp_bytes(pointer, array.count)
    }

    func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8CString)
        let pointer = allocate(utf8.count).bindMemory(to: CChar.self, capacity: utf8.count)
        utf8.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: utf8.count) }
        return UnsafePointer(pointer)
    }

    func table(_ table: AMQPTable) -> amqp_table_t {
        var result = amqp_table_t()
        guard !table.isEmpty else { return result }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        for (index, key) in table.keys.sorted().enumerated() {
            var entry = amqp_table_entry_t()
            entry.key = bytes(key)
            entry.value = field(table[key]!)
            (entries + index).initialize(to: entry)
        }
        result.num_entries = Int32(table.count)
        result.entries = entries
        return result
    }

    private func field(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        switch value {
        case let .string(s):
            field.kind = fieldKind(AMQP_FIELD_KIND_UTF8)
            field.value.bytes = bytes(s)
        case let .bytes(b):
            field.kind = fieldKind(AMQP_FIELD_KIND_BYTES)
            field.value.bytes = bytes(b)
        case let .int(i):
            field.kind = fieldKind(AMQP_FIELD_KIND_I64)
            field.value.i64 = i
        case let .bool(b):
            field.kind = fieldKind(AMQP_FIELD_KIND_BOOLEAN)
            field.value.boolean = b ? 1 : 0
        case let .double(d):
            field.kind = fieldKind(AMQP_FIELD_KIND_F64)
            field.value.f64 = d
        case let .timestamp(t):
            field.kind = fieldKind(AMQP_FIELD_KIND_TIMESTAMP)
            field.value.u64 = t
        case let .table(t):
            field.kind = fieldKind(AMQP_FIELD_KIND_TABLE)
            field.value.table = table(t)
        case let .array(values):
            field.kind = fieldKind(AMQP_FIELD_KIND_ARRAY)
            let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * max(values.count, 1))
                .bindMemory(to: amqp_field_value_t.self, capacity: max(values.count, 1))
            for (index, element) in values.enumerated() { (entries + index).initialize(to: self.field(element)) }
            field.value.array = amqp_array_t(num_entries: Int32(values.count), entries: entries)
        case .void:
            field.kind = fieldKind(AMQP_FIELD_KIND_VOID)
        }
        return field
    }

    func properties(_ properties: MessageProperties) -> amqp_basic_properties_t {
        var p = amqp_basic_properties_t()
        var flags: UInt32 = 0
        if let contentType = properties.contentType {
            p.content_type = bytes(contentType)
            flags |= UInt32(AMQP_BASIC_CONTENT_TYPE_FLAG)
        }
        p.delivery_mode = properties.persistent ? 2 : 1
        flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
        if let id = properties.messageId {
            p.message_id = bytes(id)
            flags |= UInt32(AMQP_BASIC_MESSAGE_ID_FLAG)
        }
        if let type = properties.type {
            p.type = bytes(type)
            flags |= UInt32(AMQP_BASIC_TYPE_FLAG)
        }
        if let timestamp = properties.timestamp {
            p.timestamp = UInt64(max(0, timestamp.timeIntervalSince1970))
            flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG)
        }
        if let correlation = properties.correlationId {
            p.correlation_id = bytes(correlation)
            flags |= UInt32(AMQP_BASIC_CORRELATION_ID_FLAG)
        }
        if let app = properties.appId {
            p.app_id = bytes(app)
            flags |= UInt32(AMQP_BASIC_APP_ID_FLAG)
        }
        if !properties.headers.isEmpty {
            p.headers = table(properties.headers)
            flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
        }
        p._flags = amqp_flags_t(flags)
        return p
    }
}

private func fieldKind(_ k: amqp_field_value_kind_t) -> UInt8 { UInt8(truncatingIfNeeded: k.rawValue) }

extension amqp_bytes_t {
    var string: String {
        guard let bytes, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }

    var array: [UInt8] {
        guard let bytes, len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }
}

extension amqp_table_t {
    var swiftTable: AMQPTable {
        var result: AMQPTable = [:]
        guard let entries, num_entries > 0 else { return result }
        for index in 0..<Int(num_entries) {
            let entry = entries[index]
            result[entry.key.string] = entry.value.swiftValue
        }
        return result
    }
}

extension amqp_field_value_t {
    var swiftValue: AMQPFieldValue {
        switch kind {
        case fieldKind(AMQP_FIELD_KIND_UTF8): .string(value.bytes.string)
        case fieldKind(AMQP_FIELD_KIND_BYTES): .bytes(value.bytes.array)
        case fieldKind(AMQP_FIELD_KIND_BOOLEAN): .bool(value.boolean != 0)
        case fieldKind(AMQP_FIELD_KIND_I8): .int(Int64(value.i8))
        case fieldKind(AMQP_FIELD_KIND_U8): .int(Int64(value.u8))
        case fieldKind(AMQP_FIELD_KIND_I16): .int(Int64(value.i16))
        case fieldKind(AMQP_FIELD_KIND_U16): .int(Int64(value.u16))
        case fieldKind(AMQP_FIELD_KIND_I32): .int(Int64(value.i32))
        case fieldKind(AMQP_FIELD_KIND_U32): .int(Int64(value.u32))
        case fieldKind(AMQP_FIELD_KIND_I64): .int(value.i64)
        case fieldKind(AMQP_FIELD_KIND_U64): .int(Int64(truncatingIfNeeded: value.u64))
        case fieldKind(AMQP_FIELD_KIND_F32): .double(Double(value.f32))
        case fieldKind(AMQP_FIELD_KIND_F64): .double(value.f64)
        case fieldKind(AMQP_FIELD_KIND_TIMESTAMP): .timestamp(value.u64)
        case fieldKind(AMQP_FIELD_KIND_TABLE): .table(value.table.swiftTable)
        case fieldKind(AMQP_FIELD_KIND_ARRAY):
            .array(
                (0..<Int(max(value.array.num_entries, 0))).map { value.array.entries[$0].swiftValue }
            )
        default: .void
        }
    }
}

extension amqp_basic_properties_t {
    var swiftProperties: MessageProperties {
        let flags = UInt32(_flags)
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        return MessageProperties(
            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? content_type.string : nil,
            persistent: has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? delivery_mode == 2 : false,
            messageId: has(AMQP_BASIC_MESSAGE_ID_FLAG) ? message_id.string : nil,
            type: has(AMQP_BASIC_TYPE_FLAG) ? type.string : nil,
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? Date(timeIntervalSince1970: Double(timestamp)) : nil,
            correlationId: has(AMQP_BASIC_CORRELATION_ID_FLAG) ? correlation_id.string : nil,
            appId: has(AMQP_BASIC_APP_ID_FLAG) ? app_id.string : nil,
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? headers.swiftTable : [:]
        )
    }
}

/// A readable account of an RPC reply that was not normal.
func describe(_ reply: amqp_rpc_reply_t) -> String {
    switch reply.reply_type {
    case AMQP_RESPONSE_NORMAL:
        return "ok"
    case AMQP_RESPONSE_NONE:
        return "no reply"
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return String(cString: amqp_error_string2(reply.library_error))
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if reply.reply.id == CAMQP_CONNECTION_CLOSE, let decoded = reply.reply.decoded {
            let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            return "broker closed the connection: \(close.reply_code) \(close.reply_text.string)"
        }
        if reply.reply.id == CAMQP_CHANNEL_CLOSE, let decoded = reply.reply.decoded {
            let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            return "broker closed the channel: \(close.reply_code) \(close.reply_text.string)"
        }
        return "unexpected broker method 0x\(String(reply.reply.id, radix: 16))"
    default:
        return "unknown reply type"
    }
}

func describeStatus(_ status: Int32) -> String {
    String(cString: amqp_error_string2(status))
}
