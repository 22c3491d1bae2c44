import AsyncHTTPClient
import NIOCore

extension MultipartBody {
    /// The body for AsyncHTTPClient's delegate API, with its exact Content-Length: each chunk of `stream()` is read
    /// when the connection took the previous one (files 64 KiB at a time, as before). A file that changed size fails
    /// the request with `MultipartFileChanged`.
    func requestBody() -> HTTPClient.Body {
        let chunks = stream()
        return .stream(contentLength: Int64(byteCount)) { writer in
            // The writer does not say which event loop it writes on: an empty write answers on it.
            writer.write(.byteBuffer(ByteBuffer())).flatMapWithEventLoop { _, loop in
                let sent = loop.makePromise(of: Void.self)
                sent.completeWithTask {
                    for try await chunk in chunks { try await writer.write(.byteBuffer(chunk)).get() }
                }
                return sent.futureResult
            }
        }
    }
}
