import AsyncHTTPClient
import NIOCore

extension MultipartBody {
    /// The body for AsyncHTTPClient's delegate API, with its exact Content-Length: the chunks of `stream()` (files
    /// 64 KiB at a time) are written one after another without waiting for each write, up to 1 MiB not yet taken
    /// by the connection (then the oldest write is waited for), so a large upload is not one thread hop per chunk
    /// and holds about 1 MiB. A file that changed size fails the request with `MultipartFileChanged`.
    func requestBody() -> HTTPClient.Body {
        let chunks = stream()
        return .stream(contentLength: Int64(byteCount)) { writer in
            // The writer does not say which event loop it writes on: an empty write answers on it.
            writer.write(.byteBuffer(ByteBuffer())).flatMapWithEventLoop { _, loop in
                let sent = loop.makePromise(of: Void.self)
                sent.completeWithTask {
                    var unconfirmed: [(written: EventLoopFuture<Void>, bytes: Int)] = []
                    var bytes = 0
                    for try await chunk in chunks {
                        unconfirmed.append((writer.write(.byteBuffer(chunk)), chunk.readableBytes))
                        bytes += chunk.readableBytes
                        while bytes > 1 << 20, !unconfirmed.isEmpty {
                            let oldest = unconfirmed.removeFirst()
                            try await oldest.written.get()
                            bytes -= oldest.bytes
                        }
                    }
                    for write in unconfirmed { try await write.written.get() }
                }
                return sent.futureResult
            }
        }
    }
}
