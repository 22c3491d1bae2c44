import AtelierCore
import Foundation
import Vapor

extension OpenAIStandIn {
    /// `GET /v1/models`: the registry's models in OpenAI's list shape, behind the same key check as the images
    /// routes (what `atelier doctor` calls to prove a key without making an image).
    static func registerModels(_ app: Application, service: StandInService) {
        app.get("v1", "models") { req async -> Response in
            let requestID = StandInService.makeRequestID()
            do throws(APIError) { try service.authorize(req) } catch { return error.response(requestID: requestID) }
            let models: [[String: Any]] = service.registry.models.map {
                ["id": $0.id, "object": "model", "created": 1_700_000_000, "owned_by": "openai"]
            }
            let body = (try? JSONSerialization.data(withJSONObject: ["object": "list", "data": models], options: [.sortedKeys])) ?? Data()
            return jsonResponse(body)
        }
    }
}
