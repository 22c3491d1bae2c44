import Foundation
import OpenAIImages

/// `atelier-bench base64`: MB of base64 decoded per second (best of `--rounds`) by the decoder's run without and
/// with its AVX2 blocks, and by the whole `b64_json` extractor, on one random image of `--megabytes` MiB.
func base64Decoding() {
    let megabytes = Int(option("megabytes", "3")) ?? 3
    let figures = Base64Benchmark.run(megabytes: megabytes, rounds: Int(option("rounds", "30")) ?? 30)
    func rate(_ value: Double) -> String { String(format: "%.0f", value) }
    print(
        """
        | value (MiB decoded) | run, scalar (MB/s) | run with AVX2 blocks (MB/s) | whole extractor (MB/s) | AVX2 on this CPU |
        |---|---|---|---|---|
        | \(megabytes) | \(rate(figures.scalarRun)) | \(rate(figures.wideRun)) | \(rate(figures.extractor)) | \(figures.wideAvailable) |
        """)
}
