import AtelierCore
import Foundation

/// Job events as the API shows them: `{"type", "job_id", "seq", "job": Job, "image": Image|null}` on the streams,
/// `{"job": Job}` as webhook data.
struct JobEventJSON: JobEventRendering {
    /// Offline demo mode (the job JSON says so).
    let offline: Bool

    private struct Payload: Encodable {
        var type: String
        var jobID: UUID
        var seq: Int
        var job: JobDTO
        var image: ImageDTO?

        enum CodingKeys: String, CodingKey {
            case type, seq, job, image
            case jobID = "job_id"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .type)
            try c.encode(jobID.uuidString.lowercased(), forKey: .jobID)
            try c.encode(seq, forKey: .seq)
            try c.encode(job, forKey: .job)
            try c.encode(image, forKey: .image)
        }
    }

    /// Written by hand (`JSONBytesWriter`): the same bytes as `encodedPayload`, several times faster.
    func payload(_ content: JobEventContent) throws -> String {
        let jobID = try content.job.requireID()
        var writer = JSONBytesWriter()
        try writer.object { w in
            w.key("image"); if let image = content.image { w.image(ImageDTO(image)) } else { w.null() }
            w.key("job"); try w.job(job(content))
            w.key("job_id"); w.uuid(jobID)
            w.key("seq"); w.int(content.job.seq)
            w.key("type"); w.string(content.type)
        }
        return writer.string
    }

    /// The payload as `JSONEncoder.api` writes it: what `payload` must equal byte for byte (`JobJSONTests`).
    func encodedPayload(_ content: JobEventContent) throws -> String {
        let payload = Payload(
            type: content.type, jobID: try content.job.requireID(), seq: content.job.seq, job: job(content),
            image: content.image.map(ImageDTO.init))
        return String(decoding: try JSONEncoder.api.encode(payload), as: UTF8.self)
    }

    func webhookData(_ content: JobEventContent) -> any Encodable & Sendable {
        ["job": job(content)]
    }

    private func job(_ content: JobEventContent) -> JobDTO {
        JobDTO(content.job, images: content.images, offline: offline, now: content.at)
    }
}
