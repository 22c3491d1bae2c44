import Foundation

/// The models that may author SVG output (`svg.model`) and what their tokens cost. Data from the registry.
public struct SvgAuthoring: Codable, Sendable, Equatable {
    public struct Author: Codable, Sendable, Equatable {
        public var id: String
        public var reasoningEfforts: [String]
        public var prices: Prices

        enum CodingKeys: String, CodingKey {
            case id
            case reasoningEfforts = "reasoning_efforts", prices = "prices_per_million"
        }
    }

    /// USD per 1M tokens; nil where unknown. Reasoning tokens are part of output tokens.
    public struct Prices: Codable, Sendable, Equatable {
        public var input: Decimal?
        public var output: Decimal?

        public init(input: Decimal?, output: Decimal?) {
            self.input = input
            self.output = output
        }
    }

    public struct TokenEstimate: Codable, Sendable, Equatable {
        public var input: Int
        public var output: Int
    }

    /// The author an estimate assumes when the request names none (the upstream then picks).
    public var defaultAuthor: String
    public var estimatedTokens: TokenEstimate
    public var authors: [Author]

    enum CodingKeys: String, CodingKey {
        case authors
        case defaultAuthor = "default_author", estimatedTokens = "estimated_tokens"
    }

    public func author(_ id: String) -> Author? { authors.first { $0.id == id } }
}
