import Vapor

/// Serves a Vapor app set up by `configure` on 127.0.0.1 (a free port) for the duration of `body`, which gets the
/// port; the app is shut down afterwards, also when `body` throws.
public func withLoopbackServer<T>(
    logLevel: Logger.Level = .warning, configure: (Application) throws -> Void, _ body: (Int) async throws -> T
) async throws -> T {
    let app = try await Application.make(.testing)
    app.logger.logLevel = logLevel
    app.http.server.configuration.hostname = "127.0.0.1"
    app.http.server.configuration.port = 0
    do {
        try configure(app)
        try await app.server.start()
        guard let port = app.http.server.shared.localAddress?.port else { throw LoopbackServerError.noPort }
        let result = try await body(port)
        await app.server.shutdown()
        try await app.asyncShutdown()
        return result
    } catch {
        await app.server.shutdown()
        try? await app.asyncShutdown()
        throw error
    }
}

enum LoopbackServerError: Error { case noPort }
