import AMQP
import Synchronization

/// Deliveries received but not yet applied, so the consumer can take all that arrived together.
final class DeliveryBuffer: Sendable {
    private struct State {
        var deliveries: [Delivery] = []
        var finished = false
    }

    private let state = Mutex(State())
    private let arrived = WakeSignal()

    func append(_ delivery: Delivery) {
        state.withLock { $0.deliveries.append(delivery) }
        arrived.fire()
    }

    func finish() {
        state.withLock { $0.finished = true }
        arrived.fire()
    }

    /// Up to `max` deliveries in arrival order; waits for the first; nil once finished and empty.
    func take(max: Int) async -> [Delivery]? {
        while true {
            let taken: [Delivery]? = state.withLock { state in
                if !state.deliveries.isEmpty {
                    let count = min(max, state.deliveries.count)
                    defer { state.deliveries.removeFirst(count) }
                    return Array(state.deliveries.prefix(count))
                }
                return state.finished ? nil : []
            }
            guard let taken else { return nil }
            if !taken.isEmpty { return taken }
            await arrived.wait(timeout: .seconds(1))
        }
    }
}
