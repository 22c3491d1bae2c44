import AsyncHTTPClient
import AtelierTesting
import Foundation
import NIOCore
import OpenAIStandIn
import Testing

/// The stand-in's limiter speaks OpenAI's wire format: headers on every answer, the 429 body and headers past the
/// limit, and the out-of-quota switch.
@Suite struct StandInRateLimiterTests {
    static func generate(_ standIn: StandInServer, key: String = "sk-limiter-test-0001") async throws -> (HTTPClientResponse, [String: Any])
    {
        var request = HTTPClientRequest(url: standIn.baseURL + "/images/generations")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model":"gpt-image-1.5","prompt":"a kite","size":"1024x1024","quality":"low"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return (response, (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:])
    }

    @Test func pastTheLimitTheAnswerIsOpenAIs429WithItsHeadersAndQuotaIsASwitch() async throws {
        var options = StandInOptions()
        options.imagesPerWindow = 2
        options.rateWindowSeconds = 600
        try await StandInServer.run(options: options) { standIn in
            let (first, _) = try await Self.generate(standIn)
            #expect(first.status == .ok)
            #expect(first.headers.first(name: "x-ratelimit-limit-images") == "2")
            #expect(first.headers.first(name: "x-ratelimit-remaining-images") == "1")
            let (second, _) = try await Self.generate(standIn)
            #expect(second.headers.first(name: "x-ratelimit-remaining-images") == "0")
            #expect(second.headers.first(name: "x-ratelimit-reset-images").map { $0.hasSuffix("s") } == true)
            let (limited, body) = try await Self.generate(standIn)
            #expect(limited.status == .tooManyRequests)
            #expect(body[path: "error.code"] as? String == "rate_limit_exceeded")
            #expect(body[path: "error.type"] as? String == "requests")
            #expect((body[path: "error.message"] as? String)?.contains("Please try again in") == true)
            #expect(Int(limited.headers.first(name: "retry-after") ?? "") ?? 0 >= 1)
            #expect(limited.headers.first(name: "x-ratelimit-remaining-images") == "0")
            // Another key has its own bucket.
            #expect(try await Self.generate(standIn, key: "sk-limiter-test-0002").0.status == .ok)
            try await standIn.setQuota(exhausted: true)
            let (broke, quota) = try await Self.generate(standIn, key: "sk-limiter-test-0003")
            #expect(broke.status == .tooManyRequests && quota[path: "error.code"] as? String == "insufficient_quota")
            let limits = try await standIn.limits()
            #expect(limits["rate_limited"] as? Int == 1 && limits["quota_refused"] as? Int == 1)
        }
    }
}
