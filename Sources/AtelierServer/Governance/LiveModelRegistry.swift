import AtelierCore
import Foundation
import Synchronization

/// The registry in use: the configured file with the admin's overrides (enabled, prices) laid over it.
/// Reloaded at start and after every admin change: at once on every instance on PostgreSQL (NOTIFY), and by the
/// worker's housekeeping otherwise.
public final class LiveModelRegistry: Sendable {
    public let base: ModelRegistry
    private let state: Mutex<ModelRegistry>

    public init(base: ModelRegistry) {
        self.base = base
        self.state = Mutex(base)
    }

    public var current: ModelRegistry { state.withLock { $0 } }

    /// Applies the overrides to the base registry; the default model stays enabled.
    func apply(_ overrides: [ModelOverrideRecord]) {
        var registry = base
        let byID = Dictionary(overrides.compactMap { row in row.id.map { ($0, row) } }, uniquingKeysWith: { a, _ in a })
        registry.models = base.models.map { model in
            guard let row = byID[model.id] else { return model }
            var model = model
            if let enabled = row.enabled, model.id != base.defaultModel { model.enabled = enabled }
            if let prices = row.prices { model.prices = prices }
            return model
        }
        state.withLock { $0 = registry }
    }
}
