import Foundation
import Logging

/// Debug-level timestamps along a waiting caller's job (`LOG_LEVEL=debug`), to see where the gateway's added
/// milliseconds go: `step` (entered, committing, committed or committed_started, handler, upstream_call, answering), the job, and `at` (Unix
/// seconds, microseconds). Off, each mark costs one log-level check.
enum FastPathTrace {
    static func mark(_ step: @autoclosure () -> String, job: UUID?, logger: Logger, detail: @autoclosure () -> String? = nil) {
        logger.debug(
            "fast path",
            metadata: [
                "trace": "fastpath", "step": "\(step())", "job": "\(job?.uuidString.lowercased() ?? "-")",
                "at": "\(String(format: "%.6f", Date().timeIntervalSince1970))", "detail": "\(detail() ?? "-")",
            ])
    }
}
