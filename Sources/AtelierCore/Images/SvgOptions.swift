/// The `svg` object of a request with `output_format=svg`: who authors the SVG and how hard it reasons.
/// On the wire: JSON `{"model": …, "reasoning": {"effort": …}}`; multipart `svg[model]`, `svg[reasoning][effort]`.
public struct SvgOptions: Codable, Sendable, Equatable {
    public var model: String?
    public var reasoningEffort: String?

    public init(model: String? = nil, reasoningEffort: String? = nil) {
        self.model = model
        self.reasoningEffort = reasoningEffort
    }

    private struct Reasoning: Codable {
        var effort: String?
    }

    enum CodingKeys: String, CodingKey { case model, reasoning }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        reasoningEffort = try c.decodeIfPresent(Reasoning.self, forKey: .reasoning)?.effort
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(model, forKey: .model)
        if let reasoningEffort { try c.encode(Reasoning(effort: reasoningEffort), forKey: .reasoning) }
    }
}
