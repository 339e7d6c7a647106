import Foundation
import Testing
import TestSupport

/// A client cannot hold the gateway with a body it announces and does not send.
@Suite("Request bodies: announced too large, or too slow", .serialized, .timeLimit(.minutes(2)))
struct RequestLimitsTests {
    /// Sends `head` and `body` on a raw connection and reads until the server closes it or
    /// `timeout` passes; returns what came and how long it took.
    /// With `partialSend`, a body the server stops reading before it is all sent is no failure.
    func exchange(_ head: String, body: [UInt8], timeout: Duration, partialSend: Bool = false) async throws -> (answer: String, took: Duration, closed: Bool) {
        let url = URL(string: APIClient().baseURL)!
        let started = ContinuousClock.now
        return try await Task.detached {
            let socket = try RawSocket(host: url.host ?? "127.0.0.1", port: url.port ?? 8080)
            defer { socket.close() }
            do { try socket.send(Array(head.utf8) + body) } catch where partialSend {}
            let (bytes, closed) = socket.readUntilClosed(timeout: timeout)
            return (String(decoding: bytes, as: UTF8.self), ContinuousClock.now - started, closed)
        }.value
    }

    func head(_ path: String, length: Int, type: String = "application/json") -> String {
        "POST \(path) HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(APIClient.adminKey ?? "")\r\n"
            + "Content-Type: \(type)\r\nContent-Length: \(length)\r\n\r\n"
    }

    @Test("a JSON body that declares a gigabyte: 413 at once, and the connection is closed")
    func declaredTooLarge() async throws {
        let (answer, took, closed) = try await exchange(head("/api/v1/contacts", length: 1 << 30), body: Array("{\"last_name\":".utf8), timeout: .seconds(10))
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
        #expect(answer.contains("body-too-large"))
        #expect(took < .seconds(2), "answered after \(took)")
        #expect(closed, "the server closed the connection rather than read a gigabyte")
    }

    @Test("an upload that declares more than the import limit: 413 at once")
    func uploadTooLarge() async throws {
        let (answer, took, _) = try await exchange(head("/api/v1/imports", length: Int.max / 2, type: "text/csv"), body: Array("last_name\n".utf8), timeout: .seconds(10))
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(300))")
        #expect(took < .seconds(3), "answered after \(took)")
    }

    @Test(
        "an upload the service refuses before it is in: the refusal at once, the connection closed, the gateway alive",
        arguments: [64 << 10, 4 << 20]
    )
    func uploadRefusedEarly(sent: Int) async throws {
        // The service answers while the gateway still reads the body: a little of it (the
        // gateway waits for the client) or a lot (the gateway waits for the service to take the
        // next chunk). The gateway once crashed here, its reader and Hummingbird's at once.
        let start = Array("last_name\n".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: sent)
        let (answer, took, closed) = try await exchange(
            head("/api/v1/imports?mapping=nonsense", length: 10 << 20, type: "text/csv"), body: start, timeout: .seconds(10), partialSend: true
        )
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer.prefix(300))")
        #expect(answer.contains("mapping"))
        #expect(took < .seconds(3), "answered after \(took)")
        #expect(closed, "the rest of the body is not read")
        #expect(try await APIClient(key: nil).get("/health/live").status == 200)
    }

    @Test("a JSON body that stops coming: 408 after the body timeout (30 s), and the connection is closed")
    func bodyTooSlow() async throws {
        let (answer, took, closed) = try await exchange(head("/api/v1/contacts", length: 100), body: Array("{\"last_na".utf8), timeout: .seconds(45))
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer.prefix(200))")
        #expect(took >= .seconds(29) && took < .seconds(35), "answered after \(took)")
        #expect(closed)
    }
}

/// A blocking TCP client socket: what a misbehaving HTTP client needs, and nothing more.
final class RawSocket: @unchecked Sendable {
    private let descriptor: Int32

    init(host: String, port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("cannot connect to \(host):\(port)") }
    }

    func send(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { throw TestFailure("sent \(sent) of \(bytes.count) bytes") }
    }

    /// Everything read until the peer closes (true) or `timeout` passes (false).
    func readUntilClosed(timeout: Duration) -> ([UInt8], Bool) {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let ready = poll(&poller, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (received, true) }
            received += buffer[0..<count]
        }
        return (received, false)
    }

    func close() { Glibc.close(descriptor) }
}
