import AtelierMCP
import Foundation
import MCP
import Vapor

/// `POST|GET|DELETE /mcp`: the MCP server over Streamable HTTP (the official SDK's stateful transport, one
/// session per client). Needs an API key as the bearer token (or local mode); `CallerResolver` counts every
/// request against the caller's rate limit, and each tool call is an in-process request to the REST routes.
struct MCPController: RouteCollection {
    static let maxBody: ByteCount = "48mb"
    let sessions = MCPSessions()

    func boot(routes: any RoutesBuilder) throws {
        let mcp = routes.grouped(RequireCaller())
        mcp.on(.POST, "mcp", body: .collect(maxSize: Self.maxBody), use: handle)
        mcp.on(.GET, "mcp", use: handle)
        mcp.on(.DELETE, "mcp", use: handle)
    }

    @Sendable func handle(req: Vapor.Request) async throws -> Vapor.Response {
        let caller = try req.requireCaller()
        if case .session = caller.credential {
            throw APIError(
                status: .unauthorized, code: "api_key_required",
                message: "MCP clients authenticate with an API key: send 'Authorization: Bearer atl_…' (create one on the account page).")
        }
        let principal = caller.owner + "|" + (caller.keyID?.uuidString ?? "local")
        let request = MCP.HTTPRequest(
            method: req.method.rawValue, headers: Self.headers(req), body: req.body.data.map { Data(buffer: $0) }, path: req.url.path)
        if let id = request.header(HTTPHeaderName.sessionID) {
            guard let transport = await sessions.transport(id, principal: principal) else {
                return Self.response(.error(statusCode: 404, .invalidRequest("Not Found: no such MCP session (initialize a new one)")))
            }
            let response = await transport.handleRequest(request)
            if req.method == .DELETE { await sessions.close(id) }
            return Self.response(response)
        }
        guard req.method == .POST, Self.isInitialize(request.body) else {
            return Self.response(.error(statusCode: 400, .invalidRequest("Bad Request: Mcp-Session-Id header is required")))
        }
        return try await open(request, req: req, principal: principal)
    }

    /// A POST without a session: an `initialize` opens a session with its own server.
    private func open(_ request: MCP.HTTPRequest, req: Vapor.Request, principal: String) async throws -> Vapor.Response {
        let api = InProcessAtelierAPI(
            application: req.application, authorization: req.headers.first(name: .authorization), remoteAddress: req.remoteAddress)
        let tools = try await AtelierTools.load(api: api)
        let server = await AtelierMCPServer.make(tools: tools, version: StatusController.version)
        let transport = StatefulHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(), ProtocolVersionValidator(), SessionValidator(),
            ]))
        try await server.start(transport: transport)
        let response = await transport.handleRequest(request)
        if let id = response.headers[HTTPHeaderName.sessionID] {
            await sessions.add(id, server: server, transport: transport, principal: principal)
        } else {
            await server.stop()
        }
        return Self.response(response)
    }

    /// Whether a body is a JSON-RPC `initialize` request (only that opens a session, and a server).
    static func isInitialize(_ body: Data?) -> Bool {
        guard let body, let message = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return false }
        return message["method"] as? String == "initialize"
    }

    private static func headers(_ req: Vapor.Request) -> [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in req.headers where name.lowercased() != "authorization" && name.lowercased() != "cookie" {
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        return headers
    }

    static func response(_ response: MCP.HTTPResponse) -> Vapor.Response {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.replaceOrAdd(name: name, value: value) }
        let status = HTTPResponseStatus(statusCode: response.statusCode)
        if case .stream(let events, _) = response {
            return Vapor.Response(
                status: status, headers: headers,
                body: .init(asyncStream: { writer in
                    do {
                        for try await chunk in events { try await writer.write(.buffer(ByteBuffer(data: chunk))) }
                        try await writer.write(.end)
                    } catch {
                        try? await writer.write(.error(error))
                    }
                }))
        }
        return Vapor.Response(status: status, headers: headers, body: response.bodyData.map { .init(data: $0) } ?? .empty)
    }
}

/// Closes the MCP sessions when the application stops.
struct MCPSessionsLifecycle: LifecycleHandler {
    let sessions: MCPSessions
    func shutdownAsync(_ application: Application) async { await sessions.closeAll() }
}
