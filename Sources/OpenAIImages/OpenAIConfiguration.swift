import AsyncHTTPClient
import Foundation
import NIOCore

/// Where and how to reach the OpenAI Images API. The key never appears in `description`.
public struct OpenAIConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var apiKey: String
    /// Without a trailing slash, e.g. "https://api.openai.com/v1".
    public var baseURL: String
    public var organization: String?
    public var project: String?
    /// Total time allowed for one call (headers and body, streaming included).
    public var timeout: Duration
    /// Connection establishment timeout; applied by `makeHTTPClientConfiguration()`.
    public var connectTimeout: Duration

    public init(
        apiKey: String, baseURL: String = "https://api.openai.com/v1", organization: String? = nil,
        project: String? = nil, timeout: Duration = .seconds(600), connectTimeout: Duration = .seconds(10)
    ) {
        self.apiKey = apiKey
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.organization = organization
        self.project = project
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    public var description: String {
        var parts = ["baseURL: \(baseURL)"]
        if let organization { parts.append("organization: \(organization)") }
        if let project { parts.append("project: \(project)") }
        parts.append("apiKey: \(apiKey.isEmpty ? "<empty>" : "<redacted>")")
        parts.append("timeout: \(timeout)")
        return "OpenAIConfiguration(\(parts.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    /// `dump()` and mirrors show the key redacted too.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "apiKey": "<redacted>", "baseURL": baseURL, "organization": organization as Any,
                "project": project as Any, "timeout": timeout, "connectTimeout": connectTimeout,
            ], displayStyle: .struct)
    }

    /// A suggested configuration for the one shared `HTTPClient` (connect timeout, no redirects, decompression,
    /// socket reads of up to 1 MiB).
    public func makeHTTPClientConfiguration() -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .nanoseconds(connectTimeout.nanoseconds), read: nil)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .enabled(limit: .none)
        configuration.readUpstreamInLargeParts()
        return configuration
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }

    var timeInterval: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
