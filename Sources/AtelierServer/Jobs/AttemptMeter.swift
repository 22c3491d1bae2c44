import AtelierCore
import Foundation
import Synchronization

/// What one attempt of a job did upstream, so its end is charged for what it cost: nothing when the upstream
/// never started on it, the exact cost when the upstream reported usage, the reservation (the estimate) when
/// the upstream worked on it without reporting usage (partial previews arrived, or it was canceled mid-call).
final class AttemptMeter: Sendable {
    private struct State {
        var upstreamStarted = false
        var partials = 0
        var completed = false
        var usage: Usage?
    }
    private let state = Mutex(State())

    func upstreamStarted() { state.withLock { $0.upstreamStarted = true } }
    func partialArrived() { state.withLock { $0.partials += 1 } }
    /// The upstream call returned its images (with usage when the upstream reported it).
    func upstreamReported(_ usage: Usage?) {
        state.withLock {
            $0.completed = true
            $0.usage = usage
        }
    }

    var partials: Int { state.withLock { $0.partials } }
    /// The usage the upstream reported, once its call returned.
    var usage: Usage? { state.withLock { $0.usage } }

    /// How the attempt that ended without success is charged. A cancel after the upstream call started is
    /// charged (the upstream bills a request it started); a failure is charged only when the upstream did work
    /// we can see (previews streamed or images returned): an upstream error before any output is not billed.
    func charge(canceled: Bool) -> AttemptCharge {
        state.withLock { state in
            if let usage = state.usage { return .usage(usage) }
            if state.completed || state.partials > 0 || (canceled && state.upstreamStarted) { return .reservation }
            return .none
        }
    }
}

/// What an attempt that did not succeed costs.
enum AttemptCharge: Sendable, Equatable {
    case none
    case reservation
    case usage(Usage)
}
