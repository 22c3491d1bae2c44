import AtelierCore
import Foundation

/// What a handler produced: image rows whose blobs are already stored, ready to be committed with the job.
struct JobOutcome: Sendable {
    var images: [ImageRecord]
    var usage: Usage?
    var requestID: String?
    var result: JobResultInfo
}

/// A failure of Atelier's own (not the upstream's), recorded on the job.
struct JobFailure: Error {
    var code: String
    var message: String
}
