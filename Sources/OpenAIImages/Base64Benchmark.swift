import Foundation
import NIOCore

/// `atelier-bench base64`: how fast a large `b64_json` value is decoded, in MB of base64 per second, by the run
/// with and without its AVX2 blocks and by the whole extractor (the path a response takes).
public enum Base64Benchmark {
    public struct Figures: Sendable {
        public var scalarRun: Double
        public var wideRun: Double
        public var extractor: Double
        public var wideAvailable: Bool
    }

    /// The best of `rounds` passes over `megabytes` MB of decoded bytes (base64 4/3 of that).
    public static func run(megabytes: Int, rounds: Int) -> Figures {
        var generator = SystemRandomNumberGenerator()
        let image = Data((0..<(megabytes << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let symbols = Array(image.base64EncodedString().utf8)
        let body = ByteBuffer(bytes: Array(#"{"data":[{"b64_json":""#.utf8) + symbols + Array(#""}]}"#.utf8))
        var output = [UInt8](repeating: 0, count: symbols.count / 4 * 3 + 2)
        func best(_ pass: () -> Void) -> Double {
            var fastest = Double.infinity
            for _ in 0..<rounds {
                let start = ContinuousClock.now
                pass()
                let elapsed = ContinuousClock.now - start
                fastest = min(fastest, Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
            }
            return Double(symbols.count) / fastest / 1e6
        }
        func decode(wide: Bool) {
            let run = symbols.withUnsafeBytes { source in
                output.withUnsafeMutableBytes { Base64Run.decode(source, from: 0, into: $0, at: 0, wide: wide) }
            }
            precondition(run.index >= symbols.count - 4, "the benchmark's value did not decode")
        }
        precondition(Base64FieldExtractor.extract(key: "b64_json", from: body).blobs == [image])
        return Figures(
            scalarRun: best { decode(wide: false) }, wideRun: best { decode(wide: true) },
            extractor: best { _ = Base64FieldExtractor.extract(key: "b64_json", from: body) },
            wideAvailable: Base64Run.wideAvailable)
    }
}
