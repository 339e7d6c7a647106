import Hummingbird
import NIOCore

/// Text made piece by piece while it is sent (an export, an error report): a store returns it, a
/// route answers with it, and only one piece is in memory at a time.
public struct StreamedText: Sendable {
    /// Emits the pieces in order.
    public let produce: @Sendable (_ emit: (String) async throws -> Void) async throws -> Void

    public init(_ produce: @escaping @Sendable (_ emit: (String) async throws -> Void) async throws -> Void) {
        self.produce = produce
    }

    /// A 200 with the text as an attachment named `filename`.
    public func attachment(contentType: String, filename: String) -> Response {
        let produce = produce
        return Response(
            status: .ok,
            headers: [.contentType: contentType, .contentDisposition: "attachment; filename=\"\(filename)\""],
            body: ResponseBody { writer in
                try await produce { piece in try await writer.write(ByteBuffer(string: piece)) }
                try await writer.finish(nil)
            }
        )
    }
}
