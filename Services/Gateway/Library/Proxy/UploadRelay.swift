import AsyncHTTPClient
import Hummingbird
import NIOCore
import ServiceKit
import Synchronization

/// A client's upload passed on to a service as it arrives, read by the gateway's handler itself.
///
/// AsyncHTTPClient returns the service's answer as soon as its head arrives and may still be
/// reading the upload then (a service that refuses an import answers before the body is in).
/// Once the handler answers, Hummingbird reads what is left of the request body; two readers of
/// one body at once crash the process (NIOThrowingAsyncSequenceProducer's single-reader check).
/// So the handler reads the body here, hands each chunk to the client through a hand-off of one
/// chunk (the client's pace holds the reading back), and before it answers stops the reading and
/// waits for it to end. An answer given before the whole upload was read closes the connection:
/// reading on the rest of an upload nobody wants (up to the import limit) would only hold it.
enum UploadRelay {
    static func passOn(_ upload: RequestBody, _ work: @Sendable (HTTPClientRequest.Body) async throws -> Response) async throws -> Response {
        let handoff = ChunkHandoff()
        let (answer, readToEnd) = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    for try await chunk in upload {
                        guard await handoff.send(chunk) else { return false }
                    }
                    handoff.finish(throwing: nil)
                    return true
                } catch {
                    handoff.finish(throwing: error)
                    return false
                }
            }
            let answer = await Result(catching: { try await work(.stream(handoff, length: .unknown)) })
            // A reader still waiting for the client's next bytes is cancelled; one waiting for
            // the service to take a chunk has it refused.
            handoff.close()
            group.cancelAll()
            return (answer, await group.next() ?? false)
        }
        if readToEnd { return try answer.get() }
        do {
            var response = try answer.get()
            response.headers[.connection] = "close"
            return response
        } catch var problem as Problem {
            problem.headers["Connection"] = "close"
            throw problem
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

/// One chunk at a time from the reader of the upload to AsyncHTTPClient.
final class ChunkHandoff: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    private enum State {
        case idle
        /// The reader has a chunk the client has not taken yet.
        case offered(ByteBuffer, CheckedContinuation<Bool, Never>)
        /// The client waits for a chunk.
        case awaited(CheckedContinuation<ByteBuffer?, any Error>)
        case finished((any Error)?)
        /// The answer is in: nothing more is taken.
        case closed
    }

    private let state = Mutex(State.idle)

    /// Gives the client `chunk`, once it asks; false when it will take no more.
    func send(_ chunk: ByteBuffer) async -> Bool {
        await withCheckedContinuation { (offer: CheckedContinuation<Bool, Never>) in
            enum Outcome { case taken(CheckedContinuation<ByteBuffer?, any Error>), offered, refused }
            let outcome: Outcome = state.withLock { state in
                switch state {
                case let .awaited(taker):
                    state = .idle
                    return .taken(taker)
                case .idle:
                    state = .offered(chunk, offer)
                    return .offered
                case .offered, .finished, .closed:
                    return .refused
                }
            }
            switch outcome {
            case let .taken(taker):
                taker.resume(returning: chunk)
                offer.resume(returning: true)
            case .offered:
                break
            case .refused:
                offer.resume(returning: false)
            }
        }
    }

    /// The upload ended (`error` nil) or failed.
    func finish(throwing error: (any Error)?) {
        let taker: CheckedContinuation<ByteBuffer?, any Error>? = state.withLock { state in
            switch state {
            case let .awaited(taker):
                state = .finished(error)
                return taker
            case .idle:
                state = .finished(error)
                return nil
            case .offered, .finished, .closed:
                return nil
            }
        }
        if let error { taker?.resume(throwing: error) } else { taker?.resume(returning: nil) }
    }

    /// The handler has its answer: a chunk on offer is refused, a client still asking gets the end.
    func close() {
        let previous = state.withLock { state in
            defer { state = .closed }
            return state
        }
        switch previous {
        case let .offered(_, offer): offer.resume(returning: false)
        case let .awaited(taker): taker.resume(returning: nil)
        case .idle, .finished, .closed: break
        }
    }

    func next() async throws -> ByteBuffer? {
        try await withCheckedThrowingContinuation { (taker: CheckedContinuation<ByteBuffer?, any Error>) in
            enum Outcome { case chunk(ByteBuffer, CheckedContinuation<Bool, Never>), end((any Error)?), wait }
            let outcome: Outcome = state.withLock { state in
                switch state {
                case let .offered(chunk, offer):
                    state = .idle
                    return .chunk(chunk, offer)
                case .idle:
                    state = .awaited(taker)
                    return .wait
                case let .finished(error):
                    return .end(error)
                case .closed:
                    return .end(nil)
                case .awaited:
                    preconditionFailure("one reader at a time")
                }
            }
            switch outcome {
            case let .chunk(chunk, offer):
                offer.resume(returning: true)
                taker.resume(returning: chunk)
            case let .end(error):
                if let error { taker.resume(throwing: error) } else { taker.resume(returning: nil) }
            case .wait:
                break
            }
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let handoff: ChunkHandoff
        mutating func next() async throws -> ByteBuffer? { try await handoff.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handoff: self) }
}
