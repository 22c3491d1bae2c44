import AtelierCore

extension ImagesRequestFields {
    /// The JSON body of `POST /images/generations`: the fields `wireFields(forEdit: false)` lists, keys sorted,
    /// `svg[model]` and `svg[reasoning][effort]` as `{"svg": {"model": …, "reasoning": {"effort": …}}}` (the SDK's
    /// JSON shape of its multipart names). Written with `JSONBytesWriter`, byte for byte what `JSONSerialization`
    /// with `.sortedKeys` and `.withoutEscapingSlashes` wrote (`GenerationsBodyTests`), without its boxing and
    /// locale-aware key sorting on every upstream call.
    var generationsJSON: [UInt8] {
        var w = JSONBytesWriter(capacity: 256 + prompt.utf8.count)
        w.object { w in
            if let background { w.key("background"); w.string(background) }
            if let complexity { w.key("complexity"); w.string(complexity) }
            if let frameCount { w.key("frame_count"); w.int(frameCount) }
            if let frameDurationMs { w.key("frame_duration_ms"); w.int(frameDurationMs) }
            if let model { w.key("model"); w.string(model) }
            if let moderation { w.key("moderation"); w.string(moderation) }
            if let n { w.key("n"); w.int(n) }
            if let outputCompression { w.key("output_compression"); w.int(outputCompression) }
            if let outputFormat { w.key("output_format"); w.string(outputFormat) }
            if streams, let partialImages { w.key("partial_images"); w.int(partialImages) }
            w.key("prompt"); w.string(prompt)
            if let quality { w.key("quality"); w.string(quality) }
            if let safetyIdentifier { w.key("safety_identifier"); w.string(safetyIdentifier) }
            if let size { w.key("size"); w.string(size) }
            if streams { w.key("stream"); w.bool(true) }
            if let svg, svg.model != nil || svg.reasoningEffort != nil {
                w.key("svg")
                w.object { w in
                    if let model = svg.model { w.key("model"); w.string(model) }
                    if let effort = svg.reasoningEffort {
                        w.key("reasoning")
                        w.object { w in
                            w.key("effort"); w.string(effort)
                        }
                    }
                }
            }
        }
        return w.bytes
    }
}
