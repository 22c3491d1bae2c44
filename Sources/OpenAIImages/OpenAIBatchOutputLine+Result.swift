import AtelierCore
import Foundation
import NIOCore
import NIOHTTP1

extension OpenAIBatchOutputLine {
    /// What the line says happened to its request: the images and usage of a 2xx `ImagesResponse`, or the
    /// upstream's error (a non-2xx body's `error`, or the line's own `error` such as `batch_expired`).
    public func outcome() -> Result<ProviderResult, ProviderError> {
        if succeeded {
            guard let body else { return .failure(.invalidResponse(message: "a batch output line has no response body")) }
            do throws(ProviderError) {
                var result = try ImagesResponseDecoder.decode(ByteBuffer(bytes: body))
                result.requestID = requestID
                return .success(result)
            } catch {
                return .failure(error)
            }
        }
        if let statusCode {
            return .failure(OpenAIErrorMapper.map(status: statusCode, body: body ?? Data(), headers: HTTPHeaders()))
        }
        let message = errorMessage ?? "The request was not run."
        return .failure(.invalidRequest(message: message, param: nil, code: errorCode))
    }
}
