import Foundation

/// Sees the upstream's successful response body as it arrives, before anything is decoded or stored: the
/// OpenAI-compatible routes forward these bytes to their caller while the job stores the same answer.
/// `send` never waits. A paced receiver (`init(paced:)`) calls a part's `written` once it is done with it (the
/// caller's connection took it); the HTTP client reads the upstream on only then, so a forwarded answer moves at
/// the caller's pace, while the job decodes the same buffers without waiting for it.
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

    /// Called exactly once per part, when the receiver is done with it.
    public typealias Written = @Sendable () -> Void

    private let receive: @Sendable (Part, @escaping Written) -> Bool
    private let place: @Sendable () -> (any AnyObject & Sendable)?

    /// Where the receiver writes what it gets, asked when the call starts: an event loop of the HTTP server (opaque
    /// here), or nil. The HTTP client hands every part over on that thread, and reads the upstream there too when it
    /// has an idle connection on it, so a part goes from one socket to the other without waking another thread.
    public var placement: (any AnyObject & Sendable)? { place() }

    /// `receive` answers whether it wants the rest of the body (only its answer to `.start` counts); it is done with
    /// each part when it returns.
    public init(_ receive: @escaping @Sendable (Part) -> Bool) {
        self.receive = { part, written in
            defer { written() }
            return receive(part)
        }
        self.place = { nil }
    }

    /// `receive` calls `written` exactly once per part, when it is done with it (possibly later, on another thread).
    public init(
        paced receive: @escaping @Sendable (Part, _ written: @escaping Written) -> Bool,
        placement: @escaping @Sendable () -> (any AnyObject & Sendable)? = { nil }
    ) {
        self.receive = receive
        self.place = placement
    }

    /// Sends the head: true if the body is wanted (someone is listening), false if the tap can be dropped.
    public func start(contentType: String, length: Int? = nil) -> Bool {
        receive(.start(contentType: contentType, length: length), {})
    }

    /// Sends a part; `written` runs once the receiver is done with it.
    public func send(_ part: Part, written: @escaping Written = {}) { _ = receive(part, written) }

    public static func == (lhs: ProviderResponseTap, rhs: ProviderResponseTap) -> Bool { lhs === rhs }
}

/// Bytes of a response body chunk, readable in place. `Data` is one; the HTTP client passes its own buffers so a
/// forwarded chunk is never copied on its way to the caller.
public protocol ResponseBodyChunk: Sendable {
    var count: Int { get }
    func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}

extension Data: ResponseBodyChunk {}
