import AsyncHTTPClient
import AtelierCore
import Foundation
import ImageProcessing
import NIOCore
import OpenAIStandIn
import Testing
import Vapor

@testable import OpenAIImages

@Suite("Every ProviderError against the stand-in")
struct ErrorTests {
    static let generation = ProviderRequest(
        parameters: ImageParameters(prompt: "a cat", model: "gpt-image-2", size: "1024x1024", quality: "low"))
    static let streaming = ProviderRequest(
        parameters: ImageParameters(prompt: "a cat", model: "gpt-image-2", size: "1024x1024", quality: "low", partialImages: 1))

    /// Runs one request after queueing `faults`, returning the error it threw.
    static func failure(
        faults: String?, request: ProviderRequest = generation, timeout: Duration = .seconds(20), key: String = Harness.apiKey,
        options: StandInOptions = StandInOptions()
    ) async throws -> ProviderError {
        try await Harness.run(options: options) { h in
            if let faults { try await h.inject(faults) }
            do throws(ProviderError) {
                _ = try await h.provider(h.configuration(key: key, timeout: timeout)).run(request) { _ in }
            } catch {
                #expect(!h.logs.text.contains(key))
                return error
            }
            Issue.record("the request unexpectedly succeeded")
            return .canceled
        }
    }

    @Test func invalidRequestWithParam() async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"invalid_request","param":"quality"}]}"#)
        guard case .invalidRequest(_, let param, let code) = error else { Issue.record("got \(error)"); return }
        #expect(param == "quality")
        #expect(code == "invalid_value")
        #expect(!error.isRetryable)
    }

    @Test func realValidationErrorsMapToInvalidRequest() async throws {
        var request = Self.generation
        request.parameters.n = 11
        let error = try await Self.failure(faults: nil, request: request)
        #expect(
            error
                == .invalidRequest(
                    message: "Invalid value for 'n': 11. Expected an integer between 1 and 10.", param: "n", code: "invalid_value"))
    }

    @Test func unauthenticated() async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"unauthenticated"}]}"#)
        guard case .unauthenticated = error else { Issue.record("got \(error)"); return }
    }

    @Test func wrongKeyIsUnauthenticated() async throws {
        let error = try await Self.failure(faults: nil, key: "sk-wrong-key-xyz", options: StandInOptions(apiKey: "sk-right"))
        guard case .unauthenticated(let message) = error else { Issue.record("got \(error)"); return }
        #expect(!message.contains("sk-wrong-key-xyz"))
    }

    @Test func permissionDenied() async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"not_verified"}]}"#)
        guard case .permissionDenied(_, let code) = error else { Issue.record("got \(error)"); return }
        #expect(code == "organization_must_be_verified")
    }

    @Test func modelNotFoundByFaultAndByRetiredModel() async throws {
        let injected = try await Self.failure(faults: #"{"faults":[{"kind":"model_not_found"}]}"#)
        guard case .modelNotFound = injected else { Issue.record("got \(injected)"); return }
        var request = Self.generation
        request.parameters.model = "gpt-image-1"
        let retired = try await Self.failure(faults: nil, request: request)
        guard case .modelNotFound(let message) = retired else { Issue.record("got \(retired)"); return }
        #expect(message.contains("gpt-image-1"))
    }

    @Test func rateLimitedWithRetryAfter() async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"rate_limit","retry_after":7}]}"#)
        guard case .rateLimited(_, let seconds) = error else { Issue.record("got \(error)"); return }
        #expect(seconds == 7)
        #expect(error.isRetryable)
        let precise = try await Self.failure(faults: #"{"faults":[{"kind":"rate_limit","retry_after":7,"retry_after_ms":1500}]}"#)
        #expect(precise.retryAfter == 1.5)
    }

    @Test(arguments: ["insufficient_quota", "organization_spend_limit_exceeded", "credit_balance_exhausted"])
    func insufficientQuotaIsNotRetryable(code: String) async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"insufficient_quota","code":"\#(code)"}]}"#)
        guard case .insufficientQuota(_, let mapped) = error else { Issue.record("got \(error)"); return }
        #expect(mapped == code)
        #expect(!error.isRetryable)
    }

    @Test func moderationBlocked() async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"moderation_blocked"}]}"#)
        guard case .moderationBlocked(let message) = error else { Issue.record("got \(error)"); return }
        #expect(message.contains("safety system"))
    }

    @Test func serverError() async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"server_error","status":503}]}"#)
        guard case .serverError(let status, _) = error else { Issue.record("got \(error)"); return }
        #expect(status == 503)
        #expect(error.isRetryable)
    }

    /// Without the timeout the hang would end after a second and the call succeed, so `.timeout` is the whole check
    /// (a wall-clock bound on top of it failed at load 15: 10.6 s against 10).
    @Test func timeoutOnHang() async throws {
        let error = try await Self.failure(
            faults: #"{"faults":[{"kind":"hang","seconds":1}]}"#, timeout: .milliseconds(200))
        #expect(error == .timeout)
    }

    @Test func truncatedBody() async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"truncate"}]}"#)
        guard case .invalidResponse = error else { Issue.record("got \(error)"); return }
    }

    @Test func invalidJSONAndBadBase64() async throws {
        let json = try await Self.failure(faults: #"{"faults":[{"kind":"invalid_json"}]}"#)
        guard case .invalidResponse = json else { Issue.record("got \(json)"); return }
        let base64 = try await Self.failure(faults: #"{"faults":[{"kind":"bad_base64"}]}"#)
        guard case .invalidResponse(let message) = base64 else { Issue.record("got \(base64)"); return }
        #expect(message.contains("base64"))
    }

    @Test func streamEndingWithoutCompleted() async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"truncate"}]}"#, request: Self.streaming)
        guard case .invalidResponse(let message) = error else { Issue.record("got \(error)"); return }
        #expect(message.contains("completed"))
    }

    @Test func streamErrorEvent() async throws {
        let error = try await Self.failure(faults: #"{"faults":[{"kind":"stream_error"}]}"#, request: Self.streaming)
        guard case .serverError = error else { Issue.record("got \(error)"); return }
    }

    @Test func faultsAreConsumedInOrderAndByMatch() async throws {
        try await Harness.run { h in
            try await h.inject(#"{"faults":[{"kind":"server_error"},{"kind":"unauthenticated"}],"match":"edits"}"#)
            try await h.inject(#"{"faults":[{"kind":"moderation_blocked"}],"match":"generations"}"#)
            let provider = h.provider()
            do throws(ProviderError) {
                _ = try await provider.run(Self.generation) { _ in }
                Issue.record("expected moderation_blocked")
            } catch {
                guard case .moderationBlocked = error else { Issue.record("got \(error)"); return }
            }
            // Generations are clean again; the edit faults are still queued.
            _ = try await provider.run(Self.generation) { _ in }
            let image = try ImageProcessing.synthesize(width: 16, height: 16, format: .png, seed: 3)
            var edit = Self.generation
            edit.images = [ImageUpload(filename: "a.png", contentType: "image/png", data: image)]
            do throws(ProviderError) {
                _ = try await provider.run(edit) { _ in }
                Issue.record("expected a server error")
            } catch {
                guard case .serverError = error else { Issue.record("got \(error)"); return }
            }
            do throws(ProviderError) {
                _ = try await provider.run(edit) { _ in }
                Issue.record("expected unauthenticated")
            } catch {
                guard case .unauthenticated = error else { Issue.record("got \(error)"); return }
            }
        }
    }

    @Test func connectionRefused() async throws {
        // A port bound but not listening refuses connections, and stays ours for the whole test (a port freed by a
        // stopped server was taken by another test's server in a full parallel run, and the call succeeded there).
        let held = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(held >= 0)
        defer { close(held) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(held, $0, length) == 0 && getsockname(held, $0, &length) == 0
            }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))

        // AsyncHTTPClient retries a refused connection until the connect timeout, so keep that short.
        let configuration = OpenAIConfiguration(
            apiKey: "sk-x", baseURL: "http://127.0.0.1:\(port)/v1", connectTimeout: .milliseconds(300))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration.makeHTTPClientConfiguration())
        let client = OpenAIImagesClient(httpClient: http, configuration: configuration)
        do throws(ProviderError) {
            _ = try await OpenAIImageProvider(client: client).run(Self.generation) { _ in }
            Issue.record("expected a connection error")
        } catch {
            if case .connection = error {} else { Issue.record("got \(error)") }
            #expect(error.isRetryable)
        }
        try await http.shutdown()
    }

    /// The stand-in holds the request far longer than the test's time limit. Cancelling the task must both give
    /// `.canceled` back and abort the call: its connection to the stand-in is closed (read from /proc/net/tcp), not
    /// left open until the hang ends. Without the abort the connection stays and the time limit fails the test; no
    /// wall-clock figure is checked.
    @Test(.timeLimit(.minutes(2))) func cancellationAbortsTheRequest() async throws {
        try await Harness.run { h in
            try await h.inject(#"{"faults":[{"kind":"hang","seconds":3600}]}"#)
            let provider = h.provider(h.configuration(timeout: .seconds(3600)))
            let task = Task { () -> ProviderError? in
                do throws(ProviderError) {
                    _ = try await provider.run(Self.generation) { _ in }
                    return nil
                } catch {
                    return error
                }
            }
            // Wait until the stand-in has the request in flight, then cancel.
            var iterator = h.signal.stream.makeAsyncIterator()
            _ = await iterator.next()
            let open = try Self.establishedConnections(toPort: h.port)
            #expect(open >= 1)
            task.cancel()
            #expect(await task.value == .canceled)
            while try Self.establishedConnections(toPort: h.port) >= open {
                try Task.checkCancellation()  // the time limit ran out: the connection was never closed
                await Task.yield()
            }
        }
    }

    /// This process's client-side TCP connections to 127.0.0.1:`port` that are established (state 01).
    static func establishedConnections(toPort port: Int) throws -> Int {
        // Read to the end: String(contentsOfFile:) stops after the first page of a /proc file (4 KB, about 27 sockets),
        // and a full parallel run has hundreds.
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/net/tcp"))
        defer { try? file.close() }
        let table = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        let remote = String(format: "0100007F:%04X", port)
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[2] == remote && fields[3] == "01"
        }.count
    }
}

@Suite("Stand-in validation (raw requests)")
struct StandInValidationTests {
    static func multipart(_ build: (inout MultipartBody) -> Void) -> (String, ByteBuffer) {
        var body = MultipartBody()
        build(&body)
        return (body.contentType, try! body.encode())  // in-memory parts only: cannot fail
    }

    @Test func rejectsResponseFormatAndMissingKey() async throws {
        try await Harness.run { h in
            let body = ByteBuffer(string: #"{"prompt":"x","model":"gpt-image-2","response_format":"b64_json"}"#)
            let (status, json) = try await h.post("/v1/images/generations", contentType: "application/json", body: body)
            #expect(status == 400)
            let error = try #require(json["error"] as? [String: Any])
            #expect(error["code"] as? String == "unknown_parameter")
            #expect(error["param"] as? String == "response_format")
            #expect(Set(error.keys) == ["message", "type", "param", "code"])

            let (noKey, unauth) = try await h.post(
                "/v1/images/generations", contentType: "application/json", body: ByteBuffer(string: #"{"prompt":"x"}"#), key: nil)
            #expect(noKey == 401)
            #expect((unauth["error"] as? [String: Any])?["code"] as? String == "invalid_api_key")
        }
    }

    @Test func rejectsOctetStreamBadMaskAndBadSize() async throws {
        try await Harness.run { h in
            let image = try ImageProcessing.synthesize(width: 64, height: 64, format: .png, seed: 1)
            let (type1, body1) = Self.multipart {
                $0.addText("prompt", "x")
                $0.addText("model", "gpt-image-2")
                $0.addFile("image", ImageUpload(filename: "a.png", contentType: "application/octet-stream", data: image))
            }
            let (s1, j1) = try await h.post("/v1/images/edits", contentType: type1, body: body1)
            #expect(s1 == 400)
            #expect((j1["error"] as? [String: Any])?["code"] as? String == "unsupported_file_mimetype")

            let jpeg = try ImageProcessing.synthesize(width: 64, height: 64, format: .jpeg, seed: 1)
            let (type2, body2) = Self.multipart {
                $0.addText("prompt", "x")
                $0.addFile("image", ImageUpload(filename: "a.png", contentType: "image/png", data: jpeg))
            }
            let (s2, j2) = try await h.post("/v1/images/edits", contentType: type2, body: body2)
            #expect(s2 == 400)
            #expect((j2["error"] as? [String: Any])?["code"] as? String == "invalid_image_file")

            let smallMask = try ImageProcessing.synthesize(width: 32, height: 32, format: .png, seed: 2, transparent: true)
            let (type3, body3) = Self.multipart {
                $0.addText("prompt", "x")
                $0.addFile("image", ImageUpload(filename: "a.png", contentType: "image/png", data: image))
                $0.addFile("mask", ImageUpload(filename: "m.png", contentType: "image/png", data: smallMask))
            }
            let (s3, j3) = try await h.post("/v1/images/edits", contentType: type3, body: body3)
            #expect(s3 == 400)
            #expect((j3["error"] as? [String: Any])?["param"] as? String == "mask")

            let (s4, j4) = try await h.post(
                "/v1/images/generations", contentType: "application/json",
                body: ByteBuffer(string: #"{"prompt":"x","model":"gpt-image-1.5","size":"2048x2048"}"#))
            #expect(s4 == 400)
            #expect((j4["error"] as? [String: Any])?["param"] as? String == "size")

            let recorded = try await h.recorded()
            #expect(recorded.count == 4)
            #expect(recorded.map { $0["index"] as? Int } == [0, 1, 2, 3])
        }
    }

    @Test func recordedFileBytesAreBounded() async throws {
        try await Harness.run(options: StandInOptions(maxRecordedFileBytes: 1)) { h in
            let image = try ImageProcessing.synthesize(width: 16, height: 16, format: .png, seed: 1)
            let fields = ImagesRequestFields(prompt: "x", model: "gpt-image-2", size: "1024x1024", quality: "low")
            _ = try await h.client().edit(fields, images: [ImageUpload(filename: "a.png", contentType: "image/png", data: image)])
            let (status, _) = try await h.get("/_standin/requests/0/files/0")
            #expect(status == 404)
            let entry = try #require(try await h.recorded().first)
            #expect((entry["files"] as? [[String: Any]])?.first?["bytes"] as? Int == image.count)
        }
    }
}
