import AtelierCore
import Foundation
import Logging
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

    private let warned = Mutex<Set<String>>([])
    /// Callers of `until`, resumed by the `apply` that makes their condition hold.
    private let watchers = Mutex<[Watcher]>([])
    private struct Watcher {
        let holds: @Sendable (ModelRegistry) -> Bool
        let continuation: CheckedContinuation<Void, Never>
    }
    private let log = Mutex(Logger(label: "atelier.models"))

    /// Where the default-model fallback is reported (the app's logger, set at start).
    public var logger: Logger {
        get { log.withLock { $0 } }
        set { log.withLock { $0 = newValue } }
    }

    /// The registry as configured, with every model it names (prices of shut-down models stay known for costs).
    public var current: ModelRegistry { state.withLock { $0 } }

    /// The last `dated(at:)`: its UTC day (Unix days; `asOf` depends on the day only) and the registry it gave.
    private let lastDated = Mutex<(day: Double, registry: ModelRegistry)?>(nil)

    /// The registry as it stands at `time` (see `ModelRegistry.asOf`): what requests are validated against.
    /// A default model past its shutdown date falls back to its replacement, with one warning in the log.
    /// Worked out once per UTC day and registry (`apply` drops it): every job creation validates against it, and
    /// `asOf` parses each shutdown date (about a fifth of the compatible route's work before its group commit).
    public func dated(at time: Double) -> ModelRegistry {
        let day = (time / 86_400).rounded(.down)
        if let last = lastDated.withLock({ $0 }), last.day == day { return last.registry }
        let configured = current
        let dated = configured.asOf(time)
        if dated.defaultModel != configured.defaultModel {
            let key = "\(configured.defaultModel)>\(dated.defaultModel)"
            if warned.withLock({ $0.insert(key).inserted }) {
                logger.warning(
                    "the default model has shut down; using its replacement until DEFAULT_MODEL is changed",
                    metadata: ["default_model": "\(configured.defaultModel)", "replacement": "\(dated.defaultModel)"])
            }
        }
        // Kept only if no `apply` came in between (it clears it after changing the state).
        lastDated.withLock { last in
            if state.withLock({ $0 == configured }) { last = (day, dated) }
        }
        return dated
    }

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
        lastDated.withLock { $0 = nil }
        // After the state: a watcher registered before this point sees the new registry here, one registered after
        // it saw the new registry when it registered (both happen under `watchers`' lock).
        let due = watchers.withLock { watchers in
            let due = watchers.filter { $0.holds(registry) }
            watchers.removeAll { $0.holds(registry) }
            return due
        }
        for watcher in due { watcher.continuation.resume() }
    }

    /// Returns once `condition` holds for the registry in use (at once if it does now): a test waits for a reload
    /// this way instead of polling.
    func until(_ condition: @escaping @Sendable (ModelRegistry) -> Bool) async {
        await withCheckedContinuation { continuation in
            let now = watchers.withLock { watchers -> Bool in
                if condition(current) { return true }
                watchers.append(Watcher(holds: condition, continuation: continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}
