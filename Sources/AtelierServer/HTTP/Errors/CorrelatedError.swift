import AtelierCore
import Logging

/// What a user sees of a failure whose details are internal (absolute paths, bucket names, host names): a short
/// message with a reference; the details go to the log under the same reference.
enum CorrelatedError {
    /// Error codes whose messages may carry internal details.
    static let internalCodes: Set<String> = ["internal_error", "upstream_unreachable"]

    /// A short random reference (12 hex digits).
    static func newReference() -> String {
        (0..<6).map { _ in UInt8.random(in: .min ... .max) }.hexString
    }

    /// The public message for `code`; logs `detail` under a new reference when the code is internal.
    static func publicMessage(code: String, detail: String, logger: Logger, metadata: Logger.Metadata = [:]) -> String {
        guard internalCodes.contains(code) else { return detail }
        let reference = newReference()
        logger.error(
            "failure details", metadata: metadata.merging(["reference": "\(reference)", "code": "\(code)", "detail": "\(detail)"]) { $1 })
        let what = code == "internal_error" ? "Atelier could not finish this" : "The image service could not be reached"
        return "\(what) (reference \(reference)); an admin can find the details in the server's log."
    }
}
