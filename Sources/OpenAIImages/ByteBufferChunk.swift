import AtelierCore
import NIOCore

/// A response body chunk as AsyncHTTPClient received it, handed to a `ProviderResponseTap` without a copy: the
/// server forwards the same `ByteBuffer` to its caller (`buffer`), anything else reads it in place.
public struct ByteBufferChunk: ResponseBodyChunk {
    public let buffer: ByteBuffer

    public init(_ buffer: ByteBuffer) { self.buffer = buffer }

    public var count: Int { buffer.readableBytes }

    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try buffer.withUnsafeReadableBytes(body)
    }
}
