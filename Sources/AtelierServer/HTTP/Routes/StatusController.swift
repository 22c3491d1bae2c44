import AtelierCore
import Vapor

/// `/healthz`, `/v1/status`, `/v1/models`.
struct StatusController: RouteCollection {
    static let version = "0.1.0"

    func boot(routes: any RoutesBuilder) throws {
        routes.get("healthz") { _ in ["status": "ok"] }
        let v1 = routes.grouped("v1")
        v1.get("status", use: status)
        v1.get("models", use: models)
    }

    struct StatusDTO: Content {
        var mode: String
        var offline: Bool
        var defaultModel: String
        var version: String

        enum CodingKeys: String, CodingKey {
            case mode, offline, version
            case defaultModel = "default_model"
        }
    }

    struct ModelsDTO: Content {
        var object = "list"
        var defaultModel: String
        var data: [ModelEntry]
        var retired: [RetiredModel]
        /// Models shutting down within the registry's notice days (banners in the studio and admin page).
        var deprecations: [ModelDeprecation]
        /// Preview output formats this server lets through (for models whose `preview_formats` list them).
        var previewFormatsEnabled: [String]
        var svgAuthoring: SvgAuthoring?

        enum CodingKeys: String, CodingKey {
            case object, data, retired, deprecations
            case defaultModel = "default_model", previewFormatsEnabled = "preview_formats_enabled"
            case svgAuthoring = "svg_authoring"
        }
    }

    @Sendable func status(req: Request) async throws -> StatusDTO {
        let config = req.atelier.config
        return StatusDTO(
            mode: config.isOffline ? "offline" : "openai", offline: config.isOffline,
            defaultModel: req.atelier.registry.defaultModel, version: Self.version)
    }

    @Sendable func models(req: Request) async throws -> ModelsDTO {
        let now = req.atelier.clock.now()
        let registry = req.atelier.liveRegistry.dated(at: now)
        let previews = try await PreviewFormatSettings.enabled(req.db, config: req.atelier.config)
        return ModelsDTO(
            defaultModel: registry.defaultModel, data: registry.models.filter(\.enabled).map(ModelEntry.init), retired: registry.retired,
            deprecations: req.atelier.liveRegistry.current.deprecations(asOf: now),
            previewFormatsEnabled: previews.all.sorted(), svgAuthoring: registry.svgAuthoring)
    }
}
