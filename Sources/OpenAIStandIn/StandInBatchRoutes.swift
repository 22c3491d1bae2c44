import AtelierCore
import Foundation
import Vapor

/// OpenAI's Files API (`/v1/files`) and Batch API (`/v1/batches`) for image endpoints, plus
/// `/_standin/batches/*` to hold progress and to expire a batch.
struct StandInBatchRoutes: Sendable {
    let service: StandInService
    let store: StandInBatchStore
    static let purposes = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]
    static let endpoints = ["/v1/images/generations", "/v1/images/edits"]

    func register(on app: Application) {
        app.on(.POST, "v1", "files", body: .collect(maxSize: "200mb")) { req async in await answer(req) { try await upload(req) } }
        app.get("v1", "files", ":id") { req async in
            await answer(req) { try await fileJSON(req.parameters.get("id")).json }
        }
        app.get("v1", "files", ":id", "content") { req async -> Response in
            do {
                try service.authorize(req)
                let file = try await fileJSON(req.parameters.get("id"))
                var headers = service.baseHeaders(requestID: StandInService.makeRequestID(), contentType: "application/octet-stream")
                headers.add(name: .contentDisposition, value: "attachment; filename=\"\(file.filename)\"")
                return Response(status: .ok, headers: headers, body: .init(data: file.data))
            } catch let error as APIError {
                return error.response(requestID: StandInService.makeRequestID())
            } catch {
                return APIError(status: .internalServerError, message: "\(error)", type: "server_error").response(requestID: "req_standin")
            }
        }
        app.delete("v1", "files", ":id") { req async in
            await answer(req) {
                let id = req.parameters.get("id") ?? ""
                guard await store.deleteFile(id) else { throw Self.noFile(id) }
                return ["id": id, "object": "file", "deleted": true]
            }
        }
        app.on(.POST, "v1", "batches", body: .collect(maxSize: "1mb")) { req async in await answer(req) { try await create(req) } }
        app.get("v1", "batches", ":id") { req async in
            await answer(req) {
                let id = req.parameters.get("id") ?? ""
                guard let batch = await store.advance(id, execute: { await execute($0, endpoint: $1) }) else { throw Self.noBatch(id) }
                return batch.json
            }
        }
        app.on(.POST, "v1", "batches", ":id", "cancel", body: .collect(maxSize: "64kb")) { req async in
            await answer(req) {
                let id = req.parameters.get("id") ?? ""
                guard let batch = await store.cancel(id) else { throw Self.noBatch(id) }
                return batch.json
            }
        }
        app.get("v1", "batches") { req async in
            await answer(req) {
                let limit = req.query[Int.self, at: "limit"] ?? 20
                guard (1...100).contains(limit) else { throw APIError.invalidValue("limit", "'limit' must be between 1 and 100.") }
                let page = await store.list(after: req.query[String.self, at: "after"], limit: limit)
                return [
                    "object": "list", "data": page.batches.map(\.json), "has_more": page.hasMore,
                    "first_id": page.batches.first?.id as Any? ?? NSNull(), "last_id": page.batches.last?.id as Any? ?? NSNull(),
                ]
            }
        }
        app.on(.POST, "_standin", "batches", "hold", body: .collect(maxSize: "64kb")) { req async -> Response in
            struct Body: Decodable { var held: Bool }
            guard let body = try? req.content.decode(Body.self, as: .json) else {
                return APIError(status: .badRequest, message: "Body must be {\"held\": bool}.").response(requestID: "req_standin")
            }
            await store.setHeld(body.held)
            return OpenAIStandIn.jsonResponse(Data("{\"held\":\(body.held)}".utf8))
        }
        app.post("_standin", "batches", ":id", "expire") { req async -> Response in
            let id = req.parameters.get("id") ?? ""
            guard let batch = await store.expire(id) else { return Self.noBatch(id).response(requestID: "req_standin") }
            return OpenAIStandIn.jsonResponse(Self.encode(batch.json))
        }
    }

    static func encode(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    static func noFile(_ id: String) -> APIError {
        APIError(status: .notFound, message: "No such File object: \(id)", param: "id")
    }

    static func noBatch(_ id: String) -> APIError {
        APIError(status: .notFound, message: "No batch found with id '\(id)'.", param: "batch_id")
    }

    /// Authorizes, runs `body`, and answers its JSON object (or the OpenAI-shaped error).
    private func answer(_ req: Request, _ body: () async throws -> [String: Any]) async -> Response {
        let requestID = StandInService.makeRequestID()
        do {
            try service.authorize(req)
            let object = try await body()
            return Response(
                status: .ok, headers: service.baseHeaders(requestID: requestID, contentType: "application/json"),
                body: .init(data: Self.encode(object)))
        } catch let error as APIError {
            return error.response(requestID: requestID)
        } catch {
            return APIError(status: .internalServerError, message: "The stand-in failed: \(error)", type: "server_error")
                .response(requestID: requestID)
        }
    }

    private func fileJSON(_ id: String?) async throws -> StandInFile {
        guard let id, let file = await store.file(id) else { throw Self.noFile(id ?? "") }
        return file
    }
}
