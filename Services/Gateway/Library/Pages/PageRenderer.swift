import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The web app's templates and assets, embedded at build time from `Web/` (EmbeddedWeb.files).
struct PageRenderer: Sendable {
    let library: MustacheLibrary
    let assets: [String: (type: String, bytes: ByteBuffer)]

    static let shared = PageRenderer()

    init() {
        var library = MustacheLibrary()
        var assets: [String: (String, ByteBuffer)] = [:]
        for (path, text) in EmbeddedWeb.files {
            let name = String(path.split(separator: "/").last ?? "")
            if path.hasPrefix("Templates/"), name.hasSuffix(".mustache") {
                do {
                    try library.register(text, named: String(name.dropLast(".mustache".count)))
                } catch {
                    preconditionFailure("the template \(path) does not parse: \(error)")
                }
            } else if path.hasPrefix("Assets/") {
                let type = name.hasSuffix(".css") ? "text/css; charset=utf-8"
                    : name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : "image/svg+xml"
                assets[name] = (type, ByteBuffer(string: text))
            }
        }
        self.library = library
        self.assets = assets
    }

    /// Headers every page carries: nothing from elsewhere runs or frames it, and nothing caches
    /// a page that shows a customer.
    static let pageHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        HTTPField.Name("Content-Security-Policy")!: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    func page(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        guard let html = library.render(values, withTemplate: template) else {
            preconditionFailure("no template named \(template)")
        }
        var headers = Self.pageHeaders
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func asset(_ name: String) -> Response? {
        guard let asset = assets[name] else { return nil }
        return Response(
            status: .ok, headers: [.contentType: asset.type, .cacheControl: "public, max-age=300", HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
            body: .init(byteBuffer: asset.bytes)
        )
    }
}
