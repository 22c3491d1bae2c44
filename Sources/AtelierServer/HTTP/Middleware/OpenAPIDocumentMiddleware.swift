import Foundation
import Vapor

/// `GET /openapi.json`: the document in `Public/openapi.json` with `servers` set to the absolute URL it was fetched
/// from (`X-Forwarded-Proto`/`X-Forwarded-Host` behind a proxy, else `Host`), as agent platforms' action importers
/// need an absolute server URL. A host with characters outside a host name keeps the document's relative "/".
/// A plain (future) middleware: every other request passes straight on, without a Task.
struct OpenAPIDocumentMiddleware: Middleware {
    let publicDirectory: String

    func respond(to req: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard req.method == .GET, req.url.path == "/openapi.json" else { return next.respond(to: req) }
        // The file is read off the event loop, as before.
        return req.eventLoop.makeFutureWithTask { try document(for: req) }
    }

    private func document(for req: Request) throws -> Response {
        let path = URL(fileURLWithPath: publicDirectory).appendingPathComponent("openapi.json").path
        guard let data = FileManager.default.contents(atPath: path),
            var document = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw APIError.notFound("OpenAPI document")
        }
        if let origin = Self.origin(req) {
            document["servers"] = [["url": origin, "description": "This Atelier"]]
        }
        let response = Response(
            status: .ok,
            body: .init(data: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])))
        response.headers.contentType = .json
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-cache")
        response.headers.replaceOrAdd(name: .vary, value: "Host, X-Forwarded-Host, X-Forwarded-Proto")
        return response
    }

    static func origin(_ req: Request) -> String? {
        let forwardedProto = req.headers.first(name: "X-Forwarded-Proto")?.split(separator: ",").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        let scheme = forwardedProto == "https" ? "https" : "http"
        guard
            let host = (req.headers.first(name: "X-Forwarded-Host") ?? req.headers.first(name: .host))?
                .split(separator: ",").first.map({ $0.trimmingCharacters(in: .whitespaces) }),
            !host.isEmpty, host.count <= 255,
            host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) })
        else { return nil }
        return "\(scheme)://\(host)"
    }
}
