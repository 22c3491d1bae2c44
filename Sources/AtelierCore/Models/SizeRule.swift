/// Which output sizes a model accepts: a fixed list, `auto`, and optionally free `WxH` sizes under a rule.
public struct SizeRule: Codable, Sendable, Equatable {
    public struct FreeRule: Codable, Sendable, Equatable {
        public var multipleOf: Int
        public var maxEdge: Int
        public var maxRatio: Double
        public var minPixels: Int
        public var maxPixels: Int

        enum CodingKeys: String, CodingKey {
            case multipleOf = "multiple_of", maxEdge = "max_edge", maxRatio = "max_ratio"
            case minPixels = "min_pixels", maxPixels = "max_pixels"
        }

        /// nil when allowed, else the reason it is not.
        public func problem(width: Int, height: Int) -> String? {
            if width % multipleOf != 0 || height % multipleOf != 0 {
                return "both edges must be multiples of \(multipleOf)"
            }
            if max(width, height) > maxEdge { return "the longest edge may be at most \(maxEdge) px" }
            let ratio = Double(max(width, height)) / Double(min(width, height))
            if ratio > maxRatio { return "the aspect ratio may be at most \(Int(maxRatio)):1" }
            let pixels = width * height
            if pixels < minPixels || pixels > maxPixels {
                return "the pixel count must be between \(minPixels) and \(maxPixels)"
            }
            return nil
        }
    }

    public var fixed: [String]
    public var auto: Bool
    public var free: FreeRule?

    public init(fixed: [String], auto: Bool, free: FreeRule?) {
        self.fixed = fixed
        self.auto = auto
        self.free = free
    }

    /// Parses "WxH" into its edges.
    public static func dimensions(of size: String) -> (width: Int, height: Int)? {
        let parts = size.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        return (w, h)
    }

    /// A one-line description of what is allowed, for error messages.
    public var allowedDescription: String {
        var options = fixed
        if auto { options.insert("auto", at: 0) }
        var text = options.joined(separator: ", ")
        if let free {
            text +=
                ", or any WxH with edges multiples of \(free.multipleOf), longest edge ≤ \(free.maxEdge), "
                + "ratio ≤ \(Int(free.maxRatio)):1 and \(free.minPixels)…\(free.maxPixels) pixels"
        }
        return text
    }
}
