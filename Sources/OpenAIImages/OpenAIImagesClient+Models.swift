import AsyncHTTPClient
import AtelierCore
import Foundation
import NIOCore

extension OpenAIImagesClient {
    private struct ModelList: Decodable { var data: [UpstreamModel] }

    /// `GET /models`: every model id the key can use, with its shutdown date where the upstream reports one.
    public func listModels() async throws(ProviderError) -> [UpstreamModel] {
        var request = HTTPClientRequest(url: configuration.baseURL + "/models")
        request.method = .GET
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.apiKey)")
        if let organization = configuration.organization { request.headers.add(name: "OpenAI-Organization", value: organization) }
        if let project = configuration.project { request.headers.add(name: "OpenAI-Project", value: project) }
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Atelier/1.0 (OpenAIImages)")
        do {
            let response = try await httpClient.execute(
                request, timeout: .nanoseconds(min(configuration.timeout.nanoseconds, 30_000_000_000)), logger: logger)
            let body = try await response.body.collect(upTo: 8 << 20)
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else {
                throw OpenAIErrorMapper.map(status: status, body: Data(body.readableBytesView), headers: response.headers)
            }
            do { return try JSONDecoder().decode(ModelList.self, from: Data(body.readableBytesView)).data } catch {
                throw ProviderError.invalidResponse(message: "the model list is not {\"data\":[{\"id\":…}]}: \(error)")
            }
        } catch {
            throw Self.map(error)
        }
    }
}
