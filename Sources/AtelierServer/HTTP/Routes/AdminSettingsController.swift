import AtelierCore
import Fluent
import Foundation
import Vapor

/// `/v1/admin` (admins only): the kill switch, the global daily cap and retention; the model registry with the
/// admin's overrides (enable or disable a model, edit its prices), stored in the database.
struct AdminSettingsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped("admin")
        admin.get("settings", use: settings)
        admin.put("settings", use: updateSettings)
        admin.get("models", use: models)
        admin.patch("models", ":modelID", use: updateModel)
        admin.get("models", "check") { req async throws -> ModelsCheckReport in try await ModelsChecker(services: req.atelier).run() }
    }

    struct SettingsDTO: Content {
        var killSwitch: Bool
        var killSwitchForced: Bool
        var globalDailyCapUSD: Decimal?
        var retentionDays: Int
        /// Preview output formats the admin enabled, and those `OPENAI_PREVIEW_FORMATS` holds on.
        var previewFormats: [String]
        var previewFormatsForced: [String]

        enum CodingKeys: String, CodingKey {
            case killSwitch = "kill_switch", killSwitchForced = "kill_switch_forced"
            case globalDailyCapUSD = "global_daily_cap_usd", retentionDays = "retention_days"
            case previewFormats = "preview_formats", previewFormatsForced = "preview_formats_forced"
        }
    }

    @Sendable func settings(req: Request) async throws -> SettingsDTO {
        let current = try await RuntimeSettings.load(req.db, access: req.atelier.config.access)
        let previews = try await PreviewFormatSettings.enabled(req.db, config: req.atelier.config)
        return SettingsDTO(
            killSwitch: current.killSwitch, killSwitchForced: current.killSwitchForced,
            globalDailyCapUSD: CostNano.usd(current.globalDailyCapNano), retentionDays: current.retentionDays,
            previewFormats: previews.admin.sorted(), previewFormatsForced: previews.forced.sorted())
    }

    /// Fields present change: `kill_switch`, `global_daily_cap_usd` (null = no cap), `retention_days` (0 = keep),
    /// `preview_formats` (a list of gif, svg).
    @Sendable func updateSettings(req: Request) async throws -> SettingsDTO {
        struct Body: Decodable {
            var killSwitch: Bool?
            var globalCap: AdminUserPatch.Change<Decimal> = .keep
            var retentionDays: Int?
            var previewFormats: [String]?
            enum CodingKeys: String, CodingKey {
                case killSwitch = "kill_switch", globalCap = "global_daily_cap_usd", retentionDays = "retention_days"
                case previewFormats = "preview_formats"
            }
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                killSwitch = try c.decodeIfPresent(Bool.self, forKey: .killSwitch)
                retentionDays = try c.decodeIfPresent(Int.self, forKey: .retentionDays)
                previewFormats = try c.decodeIfPresent([String].self, forKey: .previewFormats)
                if c.contains(.globalCap) {
                    globalCap = .set(try c.decodeNil(forKey: .globalCap) ? nil : c.decode(Decimal.self, forKey: .globalCap))
                }
            }
        }
        let body = try req.content.decode(Body.self)
        if let formats = body.previewFormats {
            guard formats.allSatisfy(PreviewFormatSettings.known.contains) else {
                throw APIError.invalid("preview_formats", "preview_formats lists output formats to enable: gif, svg (or none).")
            }
            try await PreviewFormatSettings.store(Set(formats), on: req.db)
        }
        if let on = body.killSwitch { try await RuntimeSettings.store(.killSwitch, on ? "true" : "false", on: req.db) }
        if case .set(let usd) = body.globalCap {
            let nano = try AdminUserPatch.nano(usd, field: "global_daily_cap_usd")
            try await RuntimeSettings.store(.globalDailyCapNano, nano.map(String.init) ?? "none", on: req.db)
        }
        if let days = body.retentionDays {
            guard (0...36_500).contains(days) else { throw APIError.invalid("retention_days", "retention_days must be 0 (keep) to 36500.") }
            try await RuntimeSettings.store(.retentionDays, String(days), on: req.db)
        }
        return try await settings(req: req)
    }

    struct ModelDTO: Content {
        var id: String
        var displayName: String
        var enabled: Bool
        var isDefault: Bool
        var prices: ImageModel.Prices
        var registryPrices: ImageModel.Prices
        var overridden: Bool

        enum CodingKeys: String, CodingKey {
            case id, enabled, overridden
            case displayName = "display_name", isDefault = "default"
            case prices = "prices_per_million", registryPrices = "registry_prices_per_million"
        }
    }

    @Sendable func models(req: Request) async throws -> Response {
        let live = req.atelier.liveRegistry
        let overridden = Set(try await ModelOverrideRecord.query(on: req.db).all().compactMap(\.id))
        let data = live.current.models.map { model in
            ModelDTO(
                id: model.id, displayName: model.displayName, enabled: model.enabled,
                isDefault: model.id == live.base.defaultModel, prices: model.prices,
                registryPrices: live.base.model(model.id)?.prices ?? model.prices, overridden: overridden.contains(model.id))
        }
        let response = Response(status: .ok)
        try response.content.encode(["data": data], using: JSONEncoder.api)
        return response
    }

    /// Body: `enabled` and/or `prices_per_million` (`{"text_input", "image_input", "image_output", "text_output"}`),
    /// or `{"reset": true}` to drop the override.
    @Sendable func updateModel(req: Request) async throws -> Response {
        struct Body: Decodable {
            var enabled: Bool?
            var prices: ImageModel.Prices?
            var reset: Bool?
            enum CodingKeys: String, CodingKey {
                case enabled, reset
                case prices = "prices_per_million"
            }
        }
        let live = req.atelier.liveRegistry
        guard let id = req.parameters.get("modelID"), live.base.model(id) != nil else { throw APIError.notFound("model") }
        let body = try req.content.decode(Body.self)
        if body.enabled == false && id == live.base.defaultModel {
            throw APIError.invalid("enabled", "\(id) is the default model and cannot be disabled.")
        }
        for price in [body.prices?.textInput, body.prices?.imageInput, body.prices?.imageOutput, body.prices?.textOutput] {
            if let price, price < 0 { throw APIError.invalid("prices_per_million", "Prices are USD per 1M tokens, 0 or more.") }
        }
        let existing = try await ModelOverrideRecord.find(id, on: req.db)
        if body.reset == true {
            try await existing?.delete(on: req.db)
        } else {
            let row = existing ?? ModelOverrideRecord(modelID: id, now: req.atelier.clock.now())
            if let enabled = body.enabled { row.enabled = enabled }
            if let prices = body.prices { row.prices = prices }
            row.updatedAt = req.atelier.clock.now()
            try await row.save(on: req.db)
        }
        try await RegistryOverrides(database: req.db, registry: live).reload()
        try await req.atelier.relay?.announceRegistryChange()
        return try await models(req: req)
    }
}
