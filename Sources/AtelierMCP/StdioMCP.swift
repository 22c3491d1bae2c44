import AsyncHTTPClient
import Foundation
import Logging
import MCP

/// `atelier mcp`: an MCP server on stdin/stdout for desktop agents. Its tools call a running Atelier's REST API
/// over HTTP with `ATELIER_API_KEY` — so the key's scopes, rate limits, spending caps and ownership apply exactly
/// as on the server, no database credentials sit on the desktop, and the server may be on another machine.
public enum StdioMCP {
    public static func run(baseURL: String, apiKey: String?, version: String) async throws {
        var logger = Logger(label: "atelier.mcp") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(3)  // a refused connection is retried until this passes
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let api = RemoteAtelierAPI(baseURL: baseURL, apiKey: apiKey, client: client)
            let me: APIResponse
            do { me = try await api.send(.get("/v1/me")) } catch {
                throw StdioMCPError(message: "Cannot reach Atelier at \(baseURL) (\(error)); set ATELIER_URL to a running server.")
            }
            if me.status == 401 {
                throw StdioMCPError(
                    message: apiKey == nil
                        ? "Atelier at \(baseURL) needs an API key: set ATELIER_API_KEY (create one on the account page)."
                        : "Atelier refused ATELIER_API_KEY: \(APIFailure(me).message)")
            }
            let tools = try await AtelierTools.load(api: api)
            let server = await AtelierMCPServer.make(tools: tools, version: version)
            try await server.start(transport: StdioTransport(logger: logger))
            await server.waitUntilCompleted()
            await server.stop()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

public struct StdioMCPError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
