import AtelierCore
import Foundation
import MCP

/// Runs the tools by calling the REST API; answers every failure the API gives as a tool error with the API's
/// `{"error":{"code","message","field"}}` (so an agent sees the same field errors as a REST client).
public struct AtelierTools: Sendable {
    public let api: any AtelierAPI
    public let schemas: ToolSchemas

    public init(api: any AtelierAPI, schemas: ToolSchemas) {
        self.api = api
        self.schemas = schemas
    }

    /// Loads the registry from `GET /v1/models`.
    public static func load(api: any AtelierAPI) async throws -> AtelierTools {
        struct Models: Decodable {
            var defaultModel: String
            var data: [ImageModel]
            enum CodingKeys: String, CodingKey { case data, defaultModel = "default_model" }
        }
        let models = try JSONDecoder().decode(Models.self, from: try await api.call(.get("/v1/models")).body)
        return AtelierTools(api: api, schemas: ToolSchemas(models: models.data, defaultModel: models.defaultModel))
    }

    public func call(_ name: String, arguments: [String: Value], progress: ProgressReport?) async throws -> CallTool.Result {
        guard let allowed = schemas.properties(of: name) else { throw MCPError.invalidParams("Unknown tool '\(name)'.") }
        do {
            let args = try ToolArguments(tool: name, values: arguments, allowed: allowed)
            return try await run(name, args, progress: progress)
        } catch let failure as APIFailure {
            return CallTool.Result(
                content: [.text(text: Self.describe(failure), annotations: nil, _meta: nil)], structuredContent: .some(failure.value),
                isError: true)
        }
    }

    private func run(_ name: String, _ args: ToolArguments, progress: ProgressReport?) async throws -> CallTool.Result {
        let options = Set(schemas.imageOptions(for: .generations).keys)
        switch name {
        case "generate_image":
            return try await finish(try await api.object(try .postJSON("/v1/generate", args.json(options))), args, progress)
        case "edit_image":
            return try await finish(
                try await api.object(try EditForms.edit(args, options: Set(schemas.imageOptions(for: .edits).keys))), args, progress)
        case "create_mask":
            return try await finish(try await api.object(try EditForms.mask(args)), args, progress)
        case "get_job":
            let job = try await api.object(.get("/v1/jobs/\(try Self.pathID(args, "job_id"))"))
            return try await JobResult(api: api).render(job, fullImage: try args.bool("full_image", default: false))
        case "wait_for_job":
            let job = try await api.object(.get("/v1/jobs/\(try Self.pathID(args, "job_id"))"))
            let seconds = try args.int("timeout_seconds", default: 120, in: 1...ToolSchemas.maxWaitSeconds)
            let finished = try await JobWaiter(api: api).wait(job, seconds: seconds, progress: progress)
            return try await JobResult(api: api).render(finished, fullImage: try args.bool("full_image", default: false))
        case "list_history":
            let page = try await api.object(.get("/v1/jobs" + Self.query(args)))
            let jobs = (page["data"]?.arrayValue ?? []).compactMap(\.objectValue).map(JobResult.summary)
            return Self.data(["data": .array(jobs), "next_cursor": page["next_cursor"] ?? .null])
        case "estimate_cost":
            return Self.data(.object(try await api.object(try .postJSON("/v1/estimate", args.json(options)))))
        default:  // list_models
            var models = try await api.object(.get("/v1/models"))
            models["data"] = .array(
                (models["data"]?.arrayValue ?? []).map { model in
                    .object((model.objectValue ?? [:]).filter { $0.key != "output_tokens" })
                })
            return Self.data(.object(models))
        }
    }

    /// Waits for a job just made (up to `wait_seconds`), then renders it.
    private func finish(_ job: [String: Value], _ args: ToolArguments, _ progress: ProgressReport?) async throws -> CallTool.Result {
        let seconds = try args.int("wait_seconds", default: 120, in: 0...ToolSchemas.maxWaitSeconds)
        let current = seconds > 0 ? try await JobWaiter(api: api).wait(job, seconds: seconds, progress: progress) : job
        return try await JobResult(api: api).render(current, fullImage: try args.bool("full_image", default: false))
    }

    private static func data(_ value: Value) -> CallTool.Result {
        CallTool.Result(
            content: [.text(text: JobResult.text(value), annotations: nil, _meta: nil)], structuredContent: .some(value), isError: false)
    }

    static func describe(_ failure: APIFailure) -> String {
        (failure.field.map { "\($0): " } ?? "") + failure.message + " " + JobResult.text(failure.value)
    }

    /// An id for a URL path: letters, digits and dashes only.
    static func pathID(_ args: ToolArguments, _ name: String) throws -> String {
        let id = try args.requiredString(name)
        guard id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw APIFailure(status: 400, code: "invalid_id", message: "\(name) must be an id as the API returns it.", field: name)
        }
        return id
    }

    /// `list_history`'s arguments as `GET /v1/jobs`' query.
    static func query(_ args: ToolArguments) throws -> String {
        var items: [URLQueryItem] = []
        for name in ["q", "model", "status", "kind", "favorite", "since", "until", "limit", "cursor"] {
            if let value = try args.formText(name) { items.append(URLQueryItem(name: name, value: value)) }
        }
        var components = URLComponents()
        components.queryItems = items
        return items.isEmpty ? "" : "?" + (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }
}
