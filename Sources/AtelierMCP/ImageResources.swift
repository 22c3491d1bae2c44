import Foundation
import MCP

/// Recent images as resources `atelier://images/{id}`: listed from the caller's latest finished jobs and read
/// through `GET /v1/images/{id}` (so ownership applies: another user's image id is not found).
struct ImageResources {
    static let scheme = "atelier://images/"
    static let listedJobs = 20
    let api: any AtelierAPI

    func list() async throws -> [Resource] {
        let page = try await api.object(.get("/v1/jobs?status=succeeded&limit=\(Self.listedJobs)"))
        return (page["data"]?.arrayValue ?? []).compactMap(\.objectValue).flatMap { job -> [Resource] in
            let prompt = job["params"]?.objectValue?["prompt"]?.stringValue ?? "image"
            return (job["images"]?.arrayValue ?? []).compactMap(\.objectValue).compactMap { image in
                guard let id = image["id"]?.stringValue else { return nil }
                let format = image["format"]?.stringValue ?? "png"
                return Resource(
                    name: String(prompt.prefix(80)), uri: Self.scheme + id,
                    description:
                        "\(image["width"]?.intValue ?? 0)×\(image["height"]?.intValue ?? 0) \(format) from job \(job["id"]?.stringValue ?? "")",
                    mimeType: "image/\(format)", size: image["bytes"]?.intValue)
            }
        }
    }

    static let template = Resource.Template(
        uriTemplate: scheme + "{id}", name: "Atelier image", description: "An image of yours by id (a job's images[].id).")

    func read(_ uri: String) async throws -> [Resource.Content] {
        let id = uri.hasPrefix(Self.scheme) ? String(uri.dropFirst(Self.scheme.count)) : ""
        guard !id.isEmpty, id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "-") }) else {
            throw MCPError.invalidParams("Resources are atelier://images/{id}; '\(uri)' is not one.")
        }
        let response = try await api.send(.get("/v1/images/\(id)"))
        guard response.isSuccess else {
            throw MCPError.invalidParams("\(uri): \(APIFailure(response).message)")
        }
        return [.binary(response.body, uri: uri, mimeType: response.contentType)]
    }
}
