import Vapor

/// Headers on every response: a strict Content-Security-Policy (scripts only from this origin, never inline; no
/// framing), `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, and HSTS when the request came
/// over TLS (directly or `X-Forwarded-Proto: https` with login on). A plain (future) middleware: no async work, so
/// no Task per request (see docs/ARCHITECTURE.md, "Middlewares").
struct SecurityHeaders: Middleware {
    /// The policy, with `imageOrigin` (the bucket presigned image URLs point at) allowed as an image source.
    static func policy(imageOrigin: String?) -> String {
        [
            "default-src 'self'", "script-src 'self'", "style-src 'self'",
            "img-src 'self' data: blob:" + (imageOrigin.map { " \($0)" } ?? ""),
            "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
            "frame-ancestors 'none'",
        ].joined(separator: "; ")
    }

    /// This server's policy.
    let contentSecurityPolicy: String

    init(imageOrigin: String? = nil) { contentSecurityPolicy = Self.policy(imageOrigin: imageOrigin) }

    func respond(to req: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: req).recover { APIErrorMiddleware.response(for: $0, request: req) }.map { response in
            addHeaders(to: response, for: req)
            return response
        }
    }

    private func addHeaders(to response: Response, for req: Request) {
        // A route's own, stricter policy (stored images: `sandbox`) is kept.
        if !response.headers.contains(name: "Content-Security-Policy") {
            response.headers.add(name: "Content-Security-Policy", value: contentSecurityPolicy)
        }
        let headers = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY")]
        for (name, value) in headers { response.headers.replaceOrAdd(name: name, value: value) }
        let overTLS =
            req.application.http.server.configuration.tlsConfiguration != nil
            || (req.atelier.config.access.loginRequired && req.headers.first(name: "X-Forwarded-Proto")?.lowercased() == "https")
        if overTLS { response.headers.replaceOrAdd(name: "Strict-Transport-Security", value: "max-age=31536000") }
    }
}
