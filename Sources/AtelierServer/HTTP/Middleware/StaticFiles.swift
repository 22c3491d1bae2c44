import Foundation
import Vapor

/// Vapor's `FileMiddleware` (the studio in `Public/`), skipped for the API's own paths (`/v1/…`, `/mcp`): there it
/// would look the path up on disk (a Task and a file-system call) only to pass the request on, as `Public/` has no
/// `v1` or `mcp` entry. A path it would refuse (not percent-decodable, or with `../`) still goes through it, so
/// every answer stays as it was.
struct StaticFiles: Middleware {
    let files: FileMiddleware
    /// Whether `Public/` has an entry named after an API path's first segment (then nothing is skipped).
    let shadowsAPI: Bool

    init(publicDirectory: String) {
        files = FileMiddleware(publicDirectory: publicDirectory, defaultFile: "index.html")
        shadowsAPI = ["v1", "mcp"].contains {
            FileManager.default.fileExists(atPath: URL(fileURLWithPath: publicDirectory).appendingPathComponent($0).path)
        }
    }

    func respond(to req: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard !shadowsAPI, Self.isAPIPath(req.url.path) else { return files.respond(to: req, chainingTo: next) }
        return next.respond(to: req)
    }

    static func isAPIPath(_ path: String) -> Bool {
        guard let decoded = path.removingPercentEncoding, !decoded.contains("../") else { return false }
        return decoded.hasPrefix("/v1/") || decoded == "/mcp"
    }
}
