import Foundation

/// Sees the upstream's successful response body as it arrives, before anything is decoded or stored: the
/// OpenAI-compatible routes forward these bytes to their caller while the job stores the same answer.
/// `send` never waits (the job's storage must not depend on how fast a caller reads).
public final class ProviderResponseTap: Sendable, Equatable {
    public enum Part: Sendable {
        /// A 2xx head arrived with this content type, and the body's byte count if the head gave one for the bytes
        /// the tap will see (not for a compressed body).
        case start(contentType: String, length: Int?)
        /// A chunk as the transport received it (not copied; the HTTP client's buffer).
        case bytes(any ResponseBodyChunk)
        /// The body arrived whole.
        case end
        /// The body was cut short (connection lost, timeout, cancellation) after `start`.
        case cutShort
    }

    private let receive: @Sendable (Part) -> Bool

    /// `receive` answers whether it wants the rest of the body (only its answer to `.start` counts).
    public init(_ receive: @escaping @Sendable (Part) -> Bool) { self.receive = receive }

    /// Sends the head: true if the body is wanted (someone is listening), false if the tap can be dropped.
    public func start(contentType: String, length: Int? = nil) -> Bool { receive(.start(contentType: contentType, length: length)) }

    public func send(_ part: Part) { _ = receive(part) }

    public static func == (lhs: ProviderResponseTap, rhs: ProviderResponseTap) -> Bool { lhs === rhs }
}

/// Bytes of a response body chunk, readable in place. `Data` is one; the HTTP client passes its own buffers so a
/// forwarded chunk is never copied on its way to the caller.
public protocol ResponseBodyChunk: Sendable {
    var count: Int { get }
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

extension Data: ResponseBodyChunk {}
