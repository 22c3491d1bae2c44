import AtelierCore
import Foundation
import OpenAIStandIn
import NIOCore
import Synchronization
import Testing

@testable import OpenAIImages

/// The client hands a listening tap the upstream's body exactly as it arrived, and nothing to a tap nobody listens to.
@Suite("Response tap")
struct ResponseTapTests {
    final class Collected: Sendable {
        let parts = Mutex<(head: String?, body: Data, ended: Bool, other: Int)>((nil, Data(), false, 0))
        let length = Mutex<Int?>(nil)
        let listening: Bool
        init(listening: Bool) { self.listening = listening }

        var tap: ProviderResponseTap {
            ProviderResponseTap { [self] part in
                parts.withLock { state in
                    switch part {
                    case .start(let type, let count):
                        state.head = type
                        length.withLock { $0 = count }
                    case .bytes(let chunk): chunk.withUnsafeBytes { state.body.append(contentsOf: $0) }
                    case .end: state.ended = true
                    case .cutShort: state.other += 1
                    }
                }
                return listening
            }
        }
    }

    @Test func aListeningTapGetsTheWholeBodyAsSentAndTheResultIsDecodedFromTheSameBytes() async throws {
        try await Harness.run { h in
            let collected = Collected(listening: true)
            var request = ProviderRequest(
                parameters: ImageParameters(prompt: "a kite", model: "gpt-image-2", size: "1024x1024", quality: "low"))
            request.responseTap = collected.tap
            let result = try await h.provider(h.configuration()).run(request) { _ in }
            let (head, body, ended, other) = collected.parts.withLock { $0 }
            #expect(head?.hasPrefix("application/json") == true && ended && other == 0)
            let wire = try JSONDecoder().decode(OpenAIWire.ImagesResponse.self, from: body)
            #expect(wire.data?.first?.b64_json.flatMap { Data(base64Encoded: $0) } == result.images.first)
            #expect(wire.usage?.domain == result.usage)
            // The announced length is that of the bytes the tap got: the caller's answer can carry it.
            #expect(collected.length.withLock { $0 } == body.count)
        }
    }

    @Test func aStreamedAnswerReachesTheTapAsTheEventStream() async throws {
        try await Harness.run { h in
            let collected = Collected(listening: true)
            var request = ProviderRequest(
                parameters: ImageParameters(
                    prompt: "a kite", model: "gpt-image-2", size: "1024x1024", quality: "low", partialImages: 2))
            request.responseTap = collected.tap
            _ = try await h.provider(h.configuration()).run(request) { _ in }
            let (head, body, ended, _) = collected.parts.withLock { $0 }
            #expect(head?.hasPrefix("text/event-stream") == true && ended)
            let text = String(decoding: body, as: UTF8.self)
            #expect(text.components(separatedBy: "event: image_generation.partial_image").count == 3)
            #expect(text.contains("event: image_generation.completed"))
        }
    }

    @Test func aTapNobodyListensToGetsOnlyTheHead() async throws {
        try await Harness.run { h in
            let collected = Collected(listening: false)
            var request = ProviderRequest(
                parameters: ImageParameters(prompt: "a kite", model: "gpt-image-2", size: "1024x1024", quality: "low"))
            request.responseTap = collected.tap
            let result = try await h.provider(h.configuration()).run(request) { _ in }
            #expect(result.images.count == 1)
            let (head, body, ended, _) = collected.parts.withLock { $0 }
            #expect(head != nil && body.isEmpty && !ended)
        }
    }

    /// A tap placed on an event loop (the caller's, on the compatible route) gets the head and every part on that
    /// loop, the thread that writes to the caller. Each of the client's loops in turn, so a call handled wherever its
    /// pooled connection happens to be fails.
    @Test func aPlacedTapGetsEveryPartOnItsEventLoop() async throws {
        try await Harness.run { h in
            let loops = Array(h.http.eventLoopGroup.makeIterator())
            for loop in loops + loops {
                let onLoop = Mutex<(yes: Int, no: Int)>((0, 0))
                var request = ProviderRequest(
                    parameters: ImageParameters(prompt: "a kite", model: "gpt-image-2", size: "1024x1024", quality: "low"))
                request.responseTap = ProviderResponseTap(
                    paced: { _, written in
                        onLoop.withLock { loop.inEventLoop ? ($0.yes += 1) : ($0.no += 1) }
                        written()
                        return true
                    }, placement: { loop })
                let result = try await h.provider(h.configuration()).run(request) { _ in }
                #expect(result.images.count == 1)
                let (yes, no) = onLoop.withLock { $0 }
                #expect(yes >= 3 && no == 0, "head, parts and end on the placed loop")
            }
        }
    }

    /// The shared client reads an upstream connection's socket in up to 1 MiB (`readUpstreamInLargeParts`), so a
    /// 3.15 MB answer reaches the tap in a few large parts; AsyncHTTPClient's own reads stop at 64 KiB (65 parts).
    @Test(arguments: [true, false])
    func aLargeAnswerArrivesInPartsOfUpToOneMebibyte(largeReads: Bool) async throws {
        var options = StandInOptions()
        options.noiseUniform = true
        try await Harness.run(options: options, client: { if largeReads { $0.readUpstreamInLargeParts() } }) { h in
            let sizes = Mutex<[Int]>([])
            var request = ProviderRequest(
                parameters: ImageParameters(prompt: "a kite", model: "gpt-image-2", size: "1024x1024", quality: "low"))
            request.responseTap = ProviderResponseTap { part in
                if case .bytes(let chunk) = part { sizes.withLock { $0.append(chunk.count) } }
                return true
            }
            let result = try await h.provider(h.configuration()).run(request) { _ in }
            #expect(result.images.first.map { $0.count > 3_000_000 } == true)
            let parts = sizes.withLock { $0 }
            #expect(parts.reduce(0, +) > 4_000_000)
            if largeReads {
                #expect(parts.max()! > 64 << 10 && parts.max()! <= 1 << 20, "\(parts)")
                #expect(parts.count < 40, "\(parts)")
            } else {
                #expect(parts.max()! <= 64 << 10 && parts.count >= 65, "\(parts)")
            }
        }
    }
}
