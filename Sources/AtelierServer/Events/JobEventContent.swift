import Foundation

/// What one job event says, in domain values (the job row as the transition left it, its images, the image the
/// event is about). The worker and the state machine build these; the HTTP layer renders them (`JobEventJSON`).
struct JobEventContent: Sendable {
    var type: String
    var job: JobRecord
    var images: [ImageRecord]
    var image: ImageRecord?
    /// When the event was recorded (the clock's now).
    var at: Double
}

/// Renders events for the wire: the payload stored in `job_events` (what streams send and replay) and the `data`
/// of the webhook deliveries. Implemented by the HTTP layer, so events never depend on presentation types.
protocol JobEventRendering: Sendable {
    func payload(_ content: JobEventContent) throws -> String
    func webhookData(_ content: JobEventContent) -> any Encodable & Sendable
}
