import Synchronization

/// Work received but not yet applied, so a lane can take all that arrived together.
final class DeliveryBuffer<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var finished = false
    }

    private let state = Mutex(State())
    private let arrived = WakeSignal()

    func append(_ item: Item) {
        state.withLock { $0.items.append(item) }
        arrived.fire()
    }

    func finish() {
        state.withLock { $0.finished = true }
        arrived.fire()
    }

    /// Up to `max` items in arrival order; waits for the first; nil once finished and empty.
    func take(max: Int) async -> [Item]? {
        while true {
            let taken: [Item]? = state.withLock { state in
                if !state.items.isEmpty {
                    let count = min(max, state.items.count)
                    defer { state.items.removeFirst(count) }
                    return Array(state.items.prefix(count))
                }
                return state.finished ? nil : []
            }
            guard let taken else { return nil }
            if !taken.isEmpty { return taken }
            await arrived.wait()
        }
    }
}
