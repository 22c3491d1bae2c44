import AsyncHTTPClient
import NIOCore

extension HTTPClient.Configuration {
    /// The largest socket read of an upstream connection.
    public static let upstreamReadBytes = 1 << 20

    /// Each new connection reads its socket in up to `maximum` bytes at a time (NIO's adaptive allocator, which
    /// grows while reads fill it and shrinks after small ones), instead of AsyncHTTPClient's 64 KiB: a 3.15 MB image
    /// answer arrives in about 5 parts instead of 65, so each part's trip (delegate, tap, the write to a forwarded
    /// caller, the decoder's wake) is paid 13 times less, and the body reaches the caller at the socket's pace. Set
    /// through AsyncHTTPClient's public connection initializers, the one place its channels can be configured.
    public mutating func readUpstreamInLargeParts(maximum: Int = upstreamReadBytes) {
        let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: maximum)
        let configure: @Sendable (any Channel) -> EventLoopFuture<Void> = { channel in
            channel.setOption(ChannelOptions.recvAllocator, value: allocator)
        }
        http1_1ConnectionDebugInitializer = configure
        http2ConnectionDebugInitializer = configure
    }
}
