import PostgresNIO
import Synchronization

/// Who waits on a connection, told at once when it closes. A callback on the connection's close
/// future per guarded operation would stay there until the connection closes, and a pooled
/// connection may live for days and run millions of operations: one callback per connection,
/// and a list that operations join and leave.
final class CloseWatch: Sendable {
    private struct State {
        var closed = false
        var next = 0
        var waiters: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    private static let watches = Mutex<[ObjectIdentifier: CloseWatch]>([:])

    /// The connection's watch, made (and hooked to its close) the first time it is asked for.
    static func of(_ connection: PostgresConnection) -> CloseWatch {
        let key = ObjectIdentifier(connection)
        let (watch, isNew) = watches.withLock { watches -> (CloseWatch, Bool) in
            if let watch = watches[key] { return (watch, false) }
            let watch = CloseWatch()
            watches[key] = watch
            return (watch, true)
        }
        if isNew {
            connection.closeFuture.whenComplete { _ in
                watches.withLock { _ = $0.removeValue(forKey: key) }
                watch.fire()
            }
        }
        return watch
    }

    /// Adds `action`, run when the connection closes (at once if it has); returns its removal.
    func add(_ action: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        let id = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            state.next += 1
            state.waiters[state.next] = action
            return state.next
        }
        guard let id else {
            action()
            return {}
        }
        return { [weak self] in _ = self?.state.withLock { $0.waiters.removeValue(forKey: id) } }
    }

    private func fire() {
        let waiters = state.withLock { state -> [@Sendable () -> Void] in
            state.closed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter() }
    }
}

extension PostgresConnection {
    /// Fires when this connection closes.
    public var closing: AbandonSignal {
        let watch = CloseWatch.of(self)
        return AbandonSignal { action in watch.add(action) }
    }
}
