import AsyncHTTPClient
import AtelierTesting
import Foundation
import NIOCore
import OpenAIStandIn
import Testing

/// The stand-in as a benchmark upstream (`--noise-images --noise-grain 1 --reuse-images`): photograph-sized PNGs
/// (a 1024×1024 one of about 2.4 MB) and repeated identical calls answered with the same bytes from memory;
/// `--noise-uniform`: PNGs as large as their raw pixels (~3.15 MB at 1024×1024, OpenAI's size).
@Suite struct StandInBenchImagesTests {
    static func image(_ standIn: StandInServer, prompt: String) async throws -> Data {
        var request = HTTPClientRequest(url: standIn.baseURL + "/images/generations")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer sk-bench-images-0001")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model":"gpt-image-2","prompt":"\#(prompt)","size":"1024x1024","quality":"low"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        #expect(response.status == .ok)
        let body = try await response.body.collect(upTo: 64 << 20)
        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        let encoded = try #require(((json?["data"] as? [[String: Any]])?.first?["b64_json"]) as? String)
        return try #require(Data(base64Encoded: encoded))
    }

    @Test func grainOneNoiseIsPhotographSizedAndRepeatsComeFromTheCache() async throws {
        var options = StandInOptions()
        options.noiseImages = true
        options.noiseGrain = 1
        options.reuseImages = true
        try await StandInServer.run(options: options) { standIn in
            let first = try await Self.image(standIn, prompt: "harbour")
            #expect(first.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            #expect(first.count > 2_200_000 && first.count < 3_400_000, "1024x1024 RGB noise: \(first.count) bytes")
            #expect(try await Self.image(standIn, prompt: "harbour") == first)
            let other = try await Self.image(standIn, prompt: "meadow")
            #expect(other != first && other.count > 2_200_000)
        }
    }

    @Test func uniformNoiseIsAsLargeAsTheRawPixelsAndSeededByThePrompt() async throws {
        var options = StandInOptions()
        options.noiseUniform = true
        try await StandInServer.run(options: options) { standIn in
            let first = try await Self.image(standIn, prompt: "harbour")
            #expect(first.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            let header = [UInt8](first.prefix(24))
            #expect(header[16..<24] == [0, 0, 4, 0, 0, 0, 4, 0], "IHDR: 1024×1024")
            let raw = 1024 * 1024 * 3
            #expect(first.count >= raw && first.count < raw + raw / 50, "1024x1024 uniform noise: \(first.count) bytes")
            #expect(try await Self.image(standIn, prompt: "harbour") == first, "same prompt, same seed, same bytes")
            let other = try await Self.image(standIn, prompt: "meadow")
            #expect(other != first && other.count >= raw)
        }
    }
}
