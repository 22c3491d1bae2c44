import AtelierMCP
import Foundation
import NIOCore
import Vapor

/// The REST API called in-process for `POST /mcp`: each call is a real request through Vapor's responder and
/// the whole middleware chain, with the MCP request's `Authorization` and client address. So a tool call meets
/// exactly the checks of the REST route it uses (key, scopes, rate limits, caps, ownership, validation).
struct InProcessAtelierAPI: AtelierAPI {
    let application: Application
    let authorization: String?
    let remoteAddress: SocketAddress?

    func send(_ request: APIRequest) async throws -> APIResponse {
        var headers = HTTPHeaders()
        if let authorization { headers.add(name: .authorization, value: authorization) }
        if let contentType = request.contentType { headers.add(name: .contentType, value: contentType) }
        let eventLoop = application.eventLoopGroup.any()
        let inner = Request(
            application: application, method: HTTPMethod(rawValue: request.method.rawValue), url: URI(string: request.path),
            headers: headers, collectedBody: request.body.map { ByteBuffer(data: $0) }, remoteAddress: remoteAddress,
            logger: application.logger, on: eventLoop)
        let response = try await application.responder.respond(to: inner).get()
        let body = try await response.body.collect(on: eventLoop).get()
        return APIResponse(
            status: Int(response.status.code), contentType: response.headers.first(name: .contentType),
            body: body.map { Data(buffer: $0) } ?? Data())
    }
}
