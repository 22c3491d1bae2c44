import Foundation
import MCP

/// A job as a tool result: a JSON summary (job id, status, cost, images with their `atelier://images/{id}` URIs)
/// as text and structured content, followed by each output image as MCP image content — its thumbnail unless the
/// full image was asked for. A failed or canceled job is a tool error carrying the job's error.
struct JobResult {
    let api: any AtelierAPI

    func render(_ job: [String: Value], fullImage: Bool) async throws -> CallTool.Result {
        let status = job["status"]?.stringValue ?? "unknown"
        let summary = Self.summary(job)
        var content: [Tool.Content] = [.text(text: Self.text(summary), annotations: nil, _meta: nil)]
        if status == "succeeded" {
            for image in job["images"]?.arrayValue ?? [] {
                guard let id = image.objectValue?["id"]?.stringValue else { continue }
                let response = try await api.call(.get(fullImage ? "/v1/images/\(id)" : "/v1/images/\(id)/thumbnail"))
                content.append(
                    .image(
                        data: response.body.base64EncodedString(), mimeType: response.contentType ?? "image/webp", annotations: nil,
                        _meta: nil))
            }
        }
        return CallTool.Result(content: content, structuredContent: .some(summary), isError: status == "failed" || status == "canceled")
    }

    /// What an agent needs of a job, without the API's internals.
    static func summary(_ job: [String: Value]) -> Value {
        let params = job["params"]?.objectValue ?? [:]
        let images = (job["images"]?.arrayValue ?? []).compactMap(\.objectValue).map { image -> Value in
            var entry = image.filter { ["id", "width", "height", "format", "bytes", "role"].contains($0.key) }
            entry["uri"] = .string("atelier://images/\(image["id"]?.stringValue ?? "")")
            return .object(entry)
        }
        var summary: [String: Value] = [
            "job_id": job["id"] ?? .null, "kind": job["kind"] ?? .null, "status": job["status"] ?? .null,
            "model": params["model"] ?? .null, "prompt": params["prompt"] ?? .null,
            "cost_usd": job["cost_usd"] ?? .null, "estimated_cost_usd": job["estimated_cost_usd"] ?? .null,
            "images": .array(images), "created_at": job["created_at"] ?? .null, "finished_at": job["finished_at"] ?? .null,
            "error": job["error"] ?? .null,
        ]
        if let result = job["result"], !result.isNull { summary["result"] = result }
        return .object(summary)
    }

    static func text(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
