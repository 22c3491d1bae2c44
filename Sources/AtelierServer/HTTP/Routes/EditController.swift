import AtelierCore
import Vapor

/// `POST /v1/edit` and `POST /v1/mask/auto`: multipart uploads (or stored image ids) made into one job by
/// `JobCreation`.
struct EditController: RouteCollection {
    static let imageFields: Set<String> = ["image", "image[]", "files[]", "files", "images[]"]

    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "edit", body: .stream, use: edit)
        routes.on(.POST, "mask", "auto", body: .stream, use: autoMask)
    }

    @Sendable func edit(req: Request) async throws -> Response {
        let (new, _) = try await JobCreation(req: req).edit()
        return try await JobResponder(req: req).respond(new)
    }

    @Sendable func autoMask(req: Request) async throws -> Response {
        let new = try await JobCreation(req: req).autoMask()
        return try await JobResponder(req: req).respond(new)
    }
}
