import AtelierCore
import Foundation
import Testing

@testable import OpenAIImages

/// The hand-written body of `POST /images/generations` is byte for byte what `JSONSerialization` (sorted keys,
/// slashes unescaped) wrote from `wireFields` before, for every combination of set fields and awkward prompts.
@Suite struct GenerationsBodyTests {
    @Test func everyFieldCombinationIsWhatJSONSerializationWrote() throws {
        let prompts = [
            "a cat", "quote \" backslash \\ slash / </script>", "tab\tnew\nline\rreturn\u{8}\u{C}",
            String((0..<32).map { Character(Unicode.Scalar($0)!) }) + "\u{7F}", "café 猫 🐈‍⬛ \u{2028}\u{FEFF}",
        ]
        var count = 0
        for prompt in prompts {
            for mask in 0..<64 {
                let on = { (bit: Int) in mask & (1 << bit) != 0 }
                let fields = ImagesRequestFields(
                    prompt: prompt, model: on(0) ? "gpt-image-2" : nil, n: on(1) ? 3 : nil, size: on(2) ? "1024x1536" : nil,
                    quality: on(3) ? "high" : nil, background: on(4) ? "transparent" : nil,
                    outputFormat: on(5) ? "webp" : nil, outputCompression: on(5) ? 80 : nil,
                    moderation: on(1) ? "low" : nil, inputFidelity: on(2) ? "high" : nil, complexity: on(3) ? "simple" : nil,
                    partialImages: on(4) ? (on(0) ? 2 : 0) : nil, safetyIdentifier: on(2) ? "user-1f2e" : nil,
                    frameCount: on(3) && on(4) ? 4 : nil, frameDurationMs: on(3) && on(4) ? 250 : nil,
                    svg: on(5) && on(0) ? SvgOptions(model: on(1) ? "gpt-5" : nil, reasoningEffort: on(2) ? "low" : nil) : nil)
                let body = try OpenAIImagesClient.generationsBody(fields)
                #expect(body == Self.serialized(fields), "\(String(decoding: body, as: UTF8.self))")
                count += 1
            }
        }
        #expect(count == 320)
    }

    /// The former encoder: the wire fields as a dictionary (`svg[reasoning][effort]` nested), `JSONSerialization`.
    static func serialized(_ fields: ImagesRequestFields) -> Data {
        var object: [String: Any] = [:]
        for (name, value) in fields.wireFields(forEdit: false) {
            let json: Any =
                switch value {
                case .string(let s): s
                case .int(let i): i
                case .bool(let b): b
                }
            set(json, at: name, in: &object)
        }
        return try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    static func set(_ value: Any, at name: String, in object: inout [String: Any]) {
        let path = name.split(whereSeparator: { $0 == "[" || $0 == "]" }).map(String.init)
        guard path.count > 1 else { return object[name] = value }
        var child = object[path[0]] as? [String: Any] ?? [:]
        set(value, at: path.dropFirst().enumerated().map { $0 == 0 ? $1 : "[\($1)]" }.joined(), in: &child)
        object[path[0]] = child
    }
}
