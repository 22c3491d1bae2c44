import AtelierCore
import Foundation

/// `JobDTO` and what it holds, written by hand with `JSONBytesWriter`: the same bytes as `JSONEncoder.api` gives for
/// the DTO's `Encodable` conformance (`JobJSONTests` compares the two), at a fraction of the CPU. Every stored job
/// event's payload is written here (`JobEventJSON`), so every admitted job's `job.queued` event and its 202 are.
/// Members that are rare or hold user-named keys (a batch's variables, SVG options and usage) go through
/// `JSONEncoder.api`.
extension JSONBytesWriter {
    /// Members in `JSONEncoder`'s sorted key order.
    mutating func job(_ job: JobDTO) throws {
        try object { w in
            w.key("attempts"); w.int(job.attempts)
            w.key("batch"); if let batch = job.batch { try w.encoded(batch) } else { w.null() }
            w.key("cost_usd"); w.decimal(job.costUSD)
            w.key("created_at"); w.date(job.createdAt)
            w.key("error"); w.error(job.error)
            w.key("estimated_cost_usd"); w.decimal(job.estimatedCostUSD)
            w.key("extras"); w.array(job.extras) { $0.image($1) }
            w.key("favorite"); w.bool(job.favorite)
            w.key("finished_at"); w.date(job.finishedAt)
            w.key("id"); w.uuid(job.id)
            w.key("images"); w.array(job.images) { $0.image($1) }
            w.key("inputs"); w.array(job.inputs) { $0.image($1) }
            w.key("kind"); w.string(job.kind)
            w.key("offline"); w.bool(job.offline)
            w.key("options"); w.options(job.options)
            w.key("params"); try w.params(job.params)
            w.key("partials"); w.array(job.partials) { $0.image($1) }
            w.key("result"); w.result(job.result)
            w.key("started_at"); w.date(job.startedAt)
            w.key("status"); w.string(job.status)
            w.key("upstream_key"); w.string(job.upstreamKey)
            w.key("upstream_request_id"); w.string(job.upstreamRequestID)
            w.key("usage"); try w.usage(job.usage)
            w.key("waiting"); w.waiting(job.waiting)
        }
    }

    mutating func image(_ image: ImageDTO) {
        object { w in
            w.key("bytes"); w.int(image.bytes)
            w.key("format"); w.string(image.format)
            w.key("height"); w.int(image.height)
            w.key("id"); w.uuid(image.id)
            w.key("index"); w.int(image.index)
            w.key("role"); w.string(image.role)
            w.key("thumbnail_url"); w.string(image.thumbnailURL)
            w.key("url"); w.string(image.url)
            w.key("width"); w.int(image.width)
        }
    }

    mutating func params(_ params: ImageParameters) throws {
        if params.svg != nil { return try encoded(params) }
        object { w in
            w.key("background"); w.string(params.background)
            w.key("complexity"); w.string(params.complexity)
            if let frameCount = params.frameCount { w.key("frame_count"); w.int(frameCount) }
            if let frameDurationMs = params.frameDurationMs { w.key("frame_duration_ms"); w.int(frameDurationMs) }
            w.key("input_fidelity"); w.string(params.inputFidelity)
            w.key("model"); w.string(params.model)
            w.key("moderation"); w.string(params.moderation)
            w.key("n"); w.int(params.n)
            w.key("output_compression"); w.int(params.outputCompression)
            w.key("output_format"); w.string(params.outputFormat)
            w.key("partial_images"); w.int(params.partialImages)
            w.key("prompt"); w.string(params.prompt)
            w.key("quality"); w.string(params.quality)
            w.key("size"); w.string(params.size)
        }
    }

    /// Absent optionals are left out (the synthesized conformance).
    mutating func options(_ options: EditOptions?) {
        guard let options else { return null() }
        object { w in
            w.key("feather"); w.int(options.featherRadius)
            if let color = options.maskEditColor { w.key("mask_edit_color"); w.string(color) }
            w.key("preserve_unmasked"); w.bool(options.preserveUnmasked)
            if let subject = options.subject { w.key("subject"); w.string(subject) }
        }
    }

    /// Absent optionals are left out (the synthesized conformance).
    private mutating func result(_ result: JobResultInfo?) {
        guard let result else { return null() }
        object { w in
            if let background = result.background { w.key("background"); w.string(background) }
            if let format = result.outputFormat { w.key("output_format"); w.string(format) }
            if let quality = result.quality { w.key("quality"); w.string(quality) }
            if let size = result.size { w.key("size"); w.string(size) }
            if let stored = result.stored { w.key("stored"); w.bool(stored) }
        }
    }

    private mutating func usage(_ usage: Usage?) throws {
        guard let usage else { return null() }
        if usage.svg != nil { return try encoded(usage) }
        object { w in
            w.key("input_image_tokens"); w.int(usage.inputImageTokens)
            w.key("input_text_tokens"); w.int(usage.inputTextTokens)
            w.key("input_tokens"); w.int(usage.inputTokens)
            w.key("output_image_tokens"); w.int(usage.outputImageTokens)
            w.key("output_text_tokens"); w.int(usage.outputTextTokens)
            w.key("output_tokens"); w.int(usage.outputTokens)
            w.key("total_tokens"); w.int(usage.totalTokens)
        }
    }

    private mutating func error(_ error: JobDTO.ErrorInfo?) {
        guard let error else { return null() }
        object { w in
            w.key("code"); w.string(error.code)
            w.key("message"); w.string(error.message)
            w.key("retryable"); w.bool(error.retryable)
        }
    }

    private mutating func waiting(_ waiting: JobDTO.WaitInfo?) {
        guard let waiting else { return null() }
        object { w in
            w.key("message"); w.string(waiting.message)
            w.key("reason"); w.string(waiting.reason)
            w.key("seconds"); w.int(waiting.seconds)
            w.key("until"); w.date(waiting.until)
        }
    }

    /// `value` as `JSONEncoder.api` encodes it (for the members this file leaves to it).
    private mutating func encoded(_ value: some Encodable) throws { json(try JSONEncoder.api.encode(value)) }

    private mutating func decimal(_ value: Decimal?) { if let value { decimal(value) } else { null() } }

    private mutating func date(_ value: Date?) { if let value { date(value) } else { null() } }
}
