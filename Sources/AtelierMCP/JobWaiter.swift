import Foundation
import MCP

/// Reports progress to the client that asked for it (a `progressToken` in the call's `_meta`).
public typealias ProgressReport = @Sendable (_ progress: Double, _ message: String) async -> Void

/// Waits for a job through `GET /v1/jobs/{id}?wait=N` (the server answers as soon as the job ends, or after N
/// seconds), reporting the job's state after each step.
struct JobWaiter {
    static let stepSeconds = 10
    let api: any AtelierAPI

    func wait(_ job: [String: Value], seconds: Int, progress: ProgressReport?) async throws -> [String: Value] {
        var current = job
        let deadline = ContinuousClock.now + .seconds(seconds)
        var step = 0.0
        while !Self.isFinished(current), let id = current["id"]?.stringValue {
            await progress?(step, Self.describe(current))
            step += 1
            let remaining = Int((deadline - ContinuousClock.now).components.seconds)
            guard remaining > 0 else { break }
            current = try await api.object(.get("/v1/jobs/\(id)?wait=\(min(remaining, Self.stepSeconds))"))
        }
        await progress?(step, Self.describe(current))
        return current
    }

    static func isFinished(_ job: [String: Value]) -> Bool {
        ["succeeded", "failed", "canceled"].contains(job["status"]?.stringValue ?? "")
    }

    static func describe(_ job: [String: Value]) -> String {
        let status = job["status"]?.stringValue ?? "unknown"
        let partials = job["partials"]?.arrayValue?.count ?? 0
        return partials > 0 ? "\(status) (\(partials) previews)" : status
    }
}
