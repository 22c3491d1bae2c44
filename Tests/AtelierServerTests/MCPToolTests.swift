import AtelierCore
@testable import AtelierMCP
@testable import AtelierServer
import AtelierTesting
import Foundation
import MCP
import Testing
import Vapor
import VaporTesting

/// The MCP tools over the in-process REST API: schemas generated from the registry, the REST API's own field
/// errors, results with job id, cost and image content, ownership, and the SDK's client/server round trip.
@Suite struct MCPToolTests {
    /// Without a key: as a local tool calls with login off (any placeholder bearer is the local user), and
    /// with login on a caller without credentials.
    private func tools(_ app: Application, key: String? = nil) async throws -> AtelierTools {
        let local = !app.atelier.config.access.loginRequired
        let authorization = key.map { "Bearer \($0)" } ?? (local ? "Bearer local-tool" : nil)
        return try await AtelierTools.load(api: InProcessAtelierAPI(application: app, authorization: authorization, remoteAddress: nil))
    }

    @Test func schemasAreGeneratedFromTheRegistry() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let schemas = try await tools(app).schemas
            #expect(
                Set(schemas.tools.map(\.name)) == [
                    "generate_image", "edit_image", "create_mask", "get_job", "wait_for_job", "list_history", "estimate_cost",
                    "list_models",
                ])
            let generate = try #require(schemas.tools.first { $0.name == "generate_image" }?.inputSchema.objectValue)
            #expect(generate["additionalProperties"] == false)
            #expect(generate["required"] == ["prompt"])
            let properties = try #require(generate["properties"]?.objectValue)
            let registry = app.atelier.registry.models.filter { $0.enabled && $0.supports(.generations) }
            #expect(properties["model"]?.objectValue?["enum"] == .array(registry.map { .string($0.id) }))
            #expect(properties["n"]?.objectValue?["maximum"] == .int(registry.map(\.maxN).max()!))
            let qualities = Set(registry.flatMap(\.qualities).map(Value.string))
            #expect(Set(properties["quality"]?.objectValue?["enum"]?.arrayValue ?? []) == qualities)
            let sizeText = JobResult.text(properties["size"]!)
            for size in registry.flatMap(\.sizes.fixed) { #expect(sizeText.contains(size)) }
            let edit = try #require(schemas.tools.first { $0.name == "edit_image" }?.inputSchema.objectValue?["properties"]?.objectValue)
            #expect(edit["image_ids"]?.objectValue?["maxItems"] == .int(registry.map(\.maxInputImages).max()!))
        }
    }

    @Test func aBadSizeGetsTheSameFieldErrorAsTheRESTAPI() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let result = try await tools(app).call("generate_image", arguments: ["prompt": "a fox", "size": "123x45"], progress: nil)
            #expect(result.isError == true)
            let rest = try await app.postJSON("v1/generate", ["prompt": "a fox", "size": "123x45"])
            let error = result.structuredContent?.objectValue?["error"]?.objectValue
            #expect(error?["field"] == "size")
            #expect(error?["code"]?.stringValue == rest.errorCode)
            #expect(error?["message"]?.stringValue == (rest.json["error"] as? [String: Any])?["message"] as? String)
            let unknown = try await tools(app).call("generate_image", arguments: ["prompt": "a fox", "colour": "red"], progress: nil)
            #expect(unknown.structuredContent?.objectValue?["error"]?.objectValue?["field"] == "colour")
            let wrongType = try await tools(app).call("get_job", arguments: ["job_id": 7], progress: nil)
            #expect(wrongType.structuredContent?.objectValue?["error"]?.objectValue?["field"] == "job_id")
        }
    }

    @Test func aFinishedJobComesBackWithItsIdCostAndImages() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let tools = try await tools(app)
            let queued = try await tools.call(
                "generate_image", arguments: ["prompt": "a fox", "size": "1024x1024", "wait_seconds": 0], progress: nil)
            let jobID = try #require(queued.structuredContent?.objectValue?["job_id"]?.stringValue)
            #expect(queued.structuredContent?.objectValue?["status"] == "queued")
            #expect(queued.content.count == 1)
            try await app.drainJobs(app.makeJobWorker())
            let steps = ProgressSteps()
            let done = try await tools.call("wait_for_job", arguments: ["job_id": .string(jobID)], progress: { await steps.add($1) })
            let summary = try #require(done.structuredContent?.objectValue)
            #expect(summary["status"] == "succeeded")
            #expect((summary["cost_usd"]?.doubleValue ?? 0) > 0)
            guard case .image(let data, let mimeType, _, _) = done.content.last else { Issue.record("no image"); return }
            #expect(mimeType == "image/webp")
            #expect(Data(base64Encoded: data)?.count ?? 0 > 0)
            #expect(await steps.messages == ["succeeded"])
            let full = try await tools.call("get_job", arguments: ["job_id": .string(jobID), "full_image": true], progress: nil)
            guard case .image(_, let fullType, _, _) = full.content.last else { Issue.record("no image"); return }
            #expect(fullType == "image/png")
        }
    }

    @Test func editAndMaskTakeStoredIdsAndBase64Images() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let tools = try await tools(app)
            let made = try await tools.call(
                "generate_image", arguments: ["prompt": "a fox", "size": "1024x1024", "wait_seconds": 0], progress: nil)
            try await app.drainJobs(app.makeJobWorker())
            let jobID = try #require(made.structuredContent?.objectValue?["job_id"]?.stringValue)
            let done = try await tools.call("get_job", arguments: ["job_id": .string(jobID), "full_image": true], progress: nil)
            let imageID = try #require(done.structuredContent?.objectValue?["images"]?.arrayValue?.first?.objectValue?["id"])
            guard case .image(let png, _, _, _) = done.content.last else { Issue.record("no image"); return }
            let edit = try await tools.call(
                "edit_image",
                arguments: [
                    "prompt": "add a scarf", "image_ids": [imageID], "images": [.string(png)], "wait_seconds": 0,
                ], progress: nil)
            #expect(edit.isError == false, "\(edit.content)")
            let editJob = try await app.send(.GET, "v1/jobs/\(edit.structuredContent?.objectValue?["job_id"]?.stringValue ?? "")").json
            #expect(editJob["kind"] as? String == "edit")
            #expect((editJob["inputs"] as? [Any])?.count == 2)
            let mask = try await tools.call(
                "create_mask", arguments: ["image_id": imageID, "subject": "the fox", "wait_seconds": 0], progress: nil)
            #expect(mask.structuredContent?.objectValue?["kind"] == "mask")
            let broken = try await tools.call("edit_image", arguments: ["prompt": "x", "images": ["%%%"]], progress: nil)
            #expect(broken.structuredContent?.objectValue?["error"]?.objectValue?["field"] == "images[0]")
            let missing = try await tools.call("edit_image", arguments: ["prompt": "x"], progress: nil)
            #expect(missing.structuredContent?.objectValue?["error"]?.objectValue?["field"] == "image")
        }
    }

    @Test func anotherUsersJobAndImageAreNotFound() async throws {
        try await withAccountsApp { app in
            let ada = try await app.makeAccount("ada@example.com")
            let bob = try await app.makeAccount("bob@example.com")
            let made = try await tools(app, key: ada.apiKey).call(
                "generate_image", arguments: ["prompt": "mine", "wait_seconds": 0], progress: nil)
            let jobID = try #require(made.structuredContent?.objectValue?["job_id"]?.stringValue)
            let stolen = try await tools(app, key: bob.apiKey).call("get_job", arguments: ["job_id": .string(jobID)], progress: nil)
            #expect(stolen.isError == true)
            #expect(stolen.structuredContent?.objectValue?["error"]?.objectValue?["code"] == "not_found")
            let anonymous = try await tools(app).call("list_history", arguments: [:], progress: nil)
            #expect(anonymous.structuredContent?.objectValue?["status"] == 401)
        }
    }

    @Test func toolCallsCountAgainstTheKeysRateLimit() async throws {
        var access = AtelierConfig.Access.accountsTesting
        access.requestsPerMinute = 5
        try await withAccountsApp(access: access, clock: .frozenAtWindowStart) { app in
            let ada = try await app.makeAccount("ada@example.com")
            let tools = try await tools(app, key: ada.apiKey)  // 1 request (GET /v1/models)
            var codes: [String] = []
            for _ in 0..<5 {
                let result = try await tools.call("list_history", arguments: [:], progress: nil)
                codes.append(result.structuredContent?.objectValue?["error"]?.objectValue?["code"]?.stringValue ?? "ok")
            }
            #expect(codes == ["ok", "ok", "ok", "ok", "rate_limited"])
        }
    }

    @Test func anMCPClientTalksToTheServerThroughTheSDK() async throws {
        try await withTestApp(overrides: .init(provider: FakeImageProvider())) { app in
            let server = await AtelierMCPServer.make(tools: try await tools(app), version: "test")
            let (clientSide, serverSide) = await InMemoryTransport.createConnectedPair()
            try await server.start(transport: serverSide)
            let client = Client(name: "test", version: "1")
            _ = try await client.connect(transport: clientSide)
            let (listed, _) = try await client.listTools()
            #expect(listed.count == 8)
            let (content, isError) = try await client.callTool(name: "generate_image", arguments: ["prompt": "x", "size": "123x45"])
            #expect(isError == true)
            guard case .text(let text, _, _) = content.first else { Issue.record("no text"); return }
            #expect(text.hasPrefix("size: "))
            await client.disconnect()
            await server.stop()
        }
    }

    @Test func httpSessionsBelongToTheKeyThatOpenedThem() async throws {
        try await withAccountsApp { app in
            let ada = try await app.makeAccount("ada@example.com")
            let bob = try await app.makeAccount("bob@example.com")
            var headers = ada.bearer
            headers.add(name: .accept, value: "application/json, text/event-stream")
            headers.contentType = .json
            let initialize =
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
            let opened = try await app.send(.POST, "mcp", headers: headers, body: ByteBuffer(string: initialize))
            #expect(opened.status == .ok)
            let session = try #require(opened.headers.first(name: "Mcp-Session-Id"))
            #expect(String(buffer: opened.body).contains("\"serverInfo\""))
            var bobs = bob.bearer
            bobs.add(name: .accept, value: "application/json, text/event-stream")
            bobs.contentType = .json
            bobs.add(name: "Mcp-Session-Id", value: session)
            let list = #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#
            #expect(try await app.send(.POST, "mcp", headers: bobs, body: ByteBuffer(string: list)).status == .notFound)
            let cookie = try await app.send(.POST, "mcp", headers: ada.browser, body: ByteBuffer(string: initialize))
            #expect(cookie.status == .unauthorized)
        }
    }
}

private actor ProgressSteps {
    var messages: [String] = []
    func add(_ message: String) { messages.append(message) }
}
