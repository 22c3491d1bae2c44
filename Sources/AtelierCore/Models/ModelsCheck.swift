import Foundation

/// One model as the upstream's `GET /v1/models` lists it.
public struct UpstreamModel: Codable, Sendable, Equatable {
    public var id: String
    public var shutdownDate: String?

    public init(id: String, shutdownDate: String? = nil) {
        self.id = id
        self.shutdownDate = shutdownDate
    }

    enum CodingKeys: String, CodingKey {
        case id
        case shutdownDate = "shutdown_date"
    }
}

/// What differs between the registry and the upstream's model list (`atelier models check`, the admin page).
public struct ModelsCheckReport: Codable, Sendable, Equatable {
    public struct Change: Codable, Sendable, Equatable {
        public var model: String
        public var field: String
        public var registry: String?
        public var upstream: String?

        public init(model: String, field: String, registry: String?, upstream: String?) {
            self.model = model
            self.field = field
            self.registry = registry
            self.upstream = upstream
        }
    }

    /// Image models the upstream lists that the registry does not know.
    public var new: [String]
    /// Registry models (not yet shut down) the upstream no longer lists.
    public var gone: [String]
    /// Facts that differ (today: `shutdown_date`).
    public var changed: [Change]

    public init(new: [String], gone: [String], changed: [Change]) {
        self.new = new
        self.gone = gone
        self.changed = changed
    }

    public var agrees: Bool { new.isEmpty && gone.isEmpty && changed.isEmpty }

    /// Plain lines for a terminal, one difference a line.
    public var lines: [String] {
        if agrees { return ["The registry agrees with the upstream's model list."] }
        return new.map { "new      \($0): listed upstream, not in the registry" }
            + gone.map { "gone     \($0): in the registry, no longer listed upstream" }
            + changed.map { "changed  \($0.model) \($0.field): registry \($0.registry ?? "none"), upstream \($0.upstream ?? "none")" }
    }
}

extension ModelRegistry {
    /// Compares this registry with the upstream's list. Only image model ids count (the registry's
    /// `upstream_model_prefixes`); ids the registry records as retired are neither new nor gone, but one the
    /// upstream still lists with another shutdown date (or none: a shutdown put off) is reported changed, since
    /// Atelier refuses it meanwhile.
    public func check(against upstream: [UpstreamModel]) -> ModelsCheckReport {
        let prefixes = upstreamModelPrefixes ?? ["gpt-image-", "chatgpt-image-"]
        let listed = Dictionary(
            upstream.filter { model in prefixes.contains { model.id.hasPrefix($0) } }.map { ($0.id, $0) },
            uniquingKeysWith: { first, _ in first })
        let retiredIDs = Set(retired.map(\.id))
        let new = listed.keys.filter { model($0) == nil && !retiredIDs.contains($0) }.sorted()
        let gone = models.map(\.id).filter { listed[$0] == nil }.sorted()
        let changed = models.compactMap { model -> ModelsCheckReport.Change? in
            guard let other = listed[model.id], other.shutdownDate != model.shutdownDate else { return nil }
            return .init(model: model.id, field: "shutdown_date", registry: model.shutdownDate, upstream: other.shutdownDate)
        }
        let postponed = retired.compactMap { entry -> ModelsCheckReport.Change? in
            guard let other = listed[entry.id], other.shutdownDate != entry.retiredOn else { return nil }
            return .init(model: entry.id, field: "shutdown_date", registry: entry.retiredOn, upstream: other.shutdownDate)
        }
        return ModelsCheckReport(new: new, gone: gone, changed: changed + postponed)
    }
}
