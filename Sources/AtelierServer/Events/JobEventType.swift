import AtelierCore

/// The events of a job's life, as stored in `job_events.type` and sent on the streams and webhooks.
enum JobEventType: String, CaseIterable, Sendable {
    case queued = "job.queued"
    case running = "job.running"
    case partialImage = "job.partial_image"
    case waiting = "job.waiting"
    /// Just before `job.succeeded`: the image reached its compatible-route caller but could not be stored.
    case storageFailed = "job.storage_failed"
    case succeeded = "job.succeeded"
    case failed = "job.failed"
    case canceled = "job.canceled"
    case quotaExhausted = "spend.quota_exhausted"

    /// The event that ends a job with `status`.
    init(ending status: JobStatus) {
        switch status {
        case .succeeded: self = .succeeded
        case .canceled: self = .canceled
        default: self = .failed
        }
    }
}
