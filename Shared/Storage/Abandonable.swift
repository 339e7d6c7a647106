import Synchronization

/// The operation did not finish within its deadline; it was cancelled and is no longer awaited.
public struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public var limit: Duration
    public init(limit: Duration) { self.limit = limit }
    public var description: String { "did not finish within \(limit)" }
}

/// Awaits `operation` in a task of its own, and stops awaiting it when `limit` passes, when
/// `abandonWhen` fires (a connection's close), or when the caller is cancelled: the operation is
/// then cancelled and left to end by itself, and this throws `DeadlineExceeded`, the error
/// `abandonWhen` maps to, or `CancellationError`.
///
/// Why not a task group: a group waits for every child, and postgres-nio never completes a query
/// written to a connection whose channel has been torn down (the write fails with no one told),
/// so an operation on a connection that closed between two statements may never end. Whoever
/// must answer within a bound, or notice a lost connection, cannot simply await it.
public func abandonable<T: Sendable>(
    limit: Duration? = nil,
    abandonWhen signal: AbandonSignal? = nil,
    closedError: @escaping @Sendable () -> any Error = { CancellationError() },
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    if Task.isCancelled { throw CancellationError() }  // the caller gave up already: start nothing
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.start(continuation)
            let worker = Task { race.finish(await Result { try await operation() }) }
            race.whenFinished { worker.cancel() }
            if let limit {
                let alarm = DeadlineAlarms.shared.set(in: limit) { race.finish(.failure(DeadlineExceeded(limit: limit))) }
                race.whenFinished { DeadlineAlarms.shared.cancel(alarm) }
            }
            if let signal {
                let forget = signal.register { race.finish(.failure(closedError())) }
                race.whenFinished(forget)
            }
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// Something whose firing makes `abandonable` stop waiting: `register` arranges for the action
/// (at once if it has fired already) and returns how to take it back.
public struct AbandonSignal: Sendable {
    public let register: @Sendable (@escaping @Sendable () -> Void) -> @Sendable () -> Void

    public init(register: @escaping @Sendable (@escaping @Sendable () -> Void) -> @Sendable () -> Void) {
        self.register = register
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// The one result of `abandonable`: the first of the operation, the timer, the close and the
/// caller's cancellation to finish wins; the others find it taken. Finishing cancels the worker
/// and the timer (a no-op for the one that finished).
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        /// A result decided before the continuation was handed over (cancelled at once).
        var early: Result<T, any Error>?
        var finished = false
        var cleanups: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func whenFinished(_ cleanup: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.finished { return true }
            state.cleanups.append(cleanup)
            return false
        }
        if now { cleanup() }
    }

    func finish(_ result: Result<T, any Error>) {
        let decided = state.withLock { state -> (CheckedContinuation<T, any Error>?, [@Sendable () -> Void])? in
            guard !state.finished else { return nil }
            state.finished = true
            defer { state.continuation = nil; state.cleanups = [] }
            if state.continuation == nil { state.early = result }
            return (state.continuation, state.cleanups)
        }
        guard let (continuation, cleanups) = decided else { return }
        continuation?.resume(with: result)
        for cleanup in cleanups { cleanup() }
    }
}

/// Every deadline of the process on one timer: a request's deadline is set and cancelled far more
/// often than it fires, and a sleeping task per request (a Dispatch timer each) cost a fifth of a
/// contact create's time through the gateway. Alarms fire up to `resolution` late.
final class DeadlineAlarms: Sendable {
    static let shared = DeadlineAlarms()
    static let resolution: Duration = .milliseconds(50)

    private struct State {
        var next = 0
        var alarms: [Int: (deadline: ContinuousClock.Instant, fire: @Sendable () -> Void)] = [:]
        var ticking = false
    }

    private let state = Mutex(State())

    func set(in delay: Duration, _ fire: @escaping @Sendable () -> Void) -> Int {
        let (id, start) = state.withLock { state -> (Int, Bool) in
            state.next += 1
            state.alarms[state.next] = (ContinuousClock.now + delay, fire)
            defer { state.ticking = true }
            return (state.next, !state.ticking)
        }
        if start { Task.detached { await self.tick() } }
        return id
    }

    func cancel(_ id: Int) {
        _ = state.withLock { $0.alarms.removeValue(forKey: id) }
    }

    /// Runs while any alarm is set.
    private func tick() async {
        while true {
            try? await Task.sleep(for: Self.resolution)
            let now = ContinuousClock.now
            let due = state.withLock { state -> [@Sendable () -> Void]? in
                let due = state.alarms.filter { $0.value.deadline <= now }
                for id in due.keys { state.alarms[id] = nil }
                if state.alarms.isEmpty && due.isEmpty {
                    state.ticking = false
                    return nil
                }
                return due.values.map(\.fire)
            }
            guard let due else { return }
            for fire in due { fire() }
        }
    }
}
