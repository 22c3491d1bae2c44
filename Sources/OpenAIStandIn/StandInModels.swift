import AtelierCore
import Foundation
import Synchronization
import Vapor

/// `GET /v1/models` as OpenAI serves it, with a `shutdown_date` per model (the deprecations page says the
/// upstream reports one). By default the registry's models plus a few non-image ids; tests replace the list with
/// `PUT /_standin/models` (a JSON array of `{"id", "shutdown_date"}`) and restore it with `DELETE`.
final class StandInModelList: Sendable {
    private let replaced = Mutex<[UpstreamModel]?>(nil)
    let registry: ModelRegistry

    init(registry: ModelRegistry) { self.registry = registry }

    var current: [UpstreamModel] {
        replaced.withLock { $0 } ?? registry.models.map { UpstreamModel(id: $0.id, shutdownDate: $0.shutdownDate) }
            + ["gpt-5", "text-embedding-3-small"].map { UpstreamModel(id: $0) }
    }

    func replace(with models: [UpstreamModel]?) { replaced.withLock { $0 = models } }

    func register(on app: Application, service: StandInService) {
        app.get("v1", "models") { req async -> Response in
            do { try service.authorize(req) } catch let error as APIError {
                return error.response(requestID: StandInService.makeRequestID())
            } catch { return Response(status: .internalServerError) }
            let data = self.current.map { model -> [String: Any] in
                var object: [String: Any] = ["id": model.id, "object": "model", "created": 1_767_225_600, "owned_by": "system"]
                if let date = model.shutdownDate { object["shutdown_date"] = date }
                return object
            }
            let body = (try? JSONSerialization.data(withJSONObject: ["object": "list", "data": data], options: [.sortedKeys])) ?? Data()
            return OpenAIStandIn.jsonResponse(body)
        }
        app.on(.PUT, "_standin", "models", body: .collect(maxSize: "1mb")) { req async -> Response in
            guard
                let models = try? JSONDecoder().decode(
                    [UpstreamModel].self, from: Data(req.body.data?.readableBytesView ?? ByteBuffer().readableBytesView))
            else {
                return APIError(status: .badRequest, message: "Body must be a JSON array of {\"id\", \"shutdown_date\"}.")
                    .response(requestID: "req_standin")
            }
            self.replace(with: models)
            return Response(status: .noContent)
        }
        app.delete("_standin", "models") { _ async -> Response in
            self.replace(with: nil)
            return Response(status: .noContent)
        }
    }
}
