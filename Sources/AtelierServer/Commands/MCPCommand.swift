import AtelierMCP
import Foundation
import Vapor

/// `atelier mcp`: an MCP server on stdin/stdout for desktop agents (Claude Desktop, IDEs…). It calls the REST API
/// of the Atelier at `ATELIER_URL` (default http://127.0.0.1:8080) with `ATELIER_API_KEY`, so it needs no database
/// and every check of the server applies. Nothing but MCP messages is written to stdout; problems go to stderr.
struct MCPCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Serves MCP on stdio for desktop agents (ATELIER_URL, ATELIER_API_KEY)." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let environment = ProcessInfo.processInfo.environment
        let url = environment["ATELIER_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8080"
        let key = environment["ATELIER_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            try await StdioMCP.run(baseURL: url, apiKey: key, version: StatusController.version)
        } catch {
            FileHandle.standardError.write(Data("atelier mcp: \(error)\n".utf8))
            exit(1)
        }
    }
}
