import Foundation
import MCP

/// Builds the MCP server (official Swift SDK) over an `AtelierAPI`: tools, image resources, progress
/// notifications for calls that carry a progress token. The same server runs behind `POST /mcp` (one per
/// session) and in `atelier mcp` (stdio).
public enum AtelierMCPServer {
    public static let instructions = """
        Atelier makes and edits images with OpenAI's GPT image models. generate_image and edit_image return the job id, \
        its cost and thumbnails (full_image=true for the full image); use list_models for what each model allows and \
        estimate_cost before large jobs. Errors name the argument at fault in "field".
        """

    public static func make(tools: AtelierTools, version: String) async -> Server {
        let server = Server(
            name: "atelier", version: version, title: "Atelier", instructions: instructions,
            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: tools.schemas.tools) }
        let notifier = WeakServer(server)
        await server.withMethodHandler(CallTool.self) { params in
            let progress: ProgressReport? = params._meta?.progressToken.map { token in
                { progress, message in
                    try? await notifier.server?.notify(
                        ProgressNotification.message(.init(progressToken: token, progress: progress, message: message)))
                }
            }
            return try await tools.call(params.name, arguments: params.arguments ?? [:], progress: progress)
        }
        let resources = ImageResources(api: tools.api)
        await server.withMethodHandler(ListResources.self) { _ in .init(resources: try await resources.list()) }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in .init(templates: [ImageResources.template]) }
        await server.withMethodHandler(ReadResource.self) { params in .init(contents: try await resources.read(params.uri)) }
        return server
    }
}

/// The server as its own handlers see it, without keeping it alive.
final class WeakServer: @unchecked Sendable {
    weak var server: Server?
    init(_ server: Server) { self.server = server }
}
