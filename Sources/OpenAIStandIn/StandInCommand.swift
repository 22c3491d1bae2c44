import Vapor

/// `atelier stand-in --hostname H --port P [--latency-ms N] [--api-key K] [--noise-images [--noise-grain 1]]
/// [--noise-uniform] [--reuse-images] [--images-per-window N --rate-window-seconds S] [--out-of-quota]`: runs the stand-in as its own server.
public struct StandInCommand: AsyncCommand {
    public struct Signature: CommandSignature {
        @Option(name: "hostname", short: "H", help: "Address to bind (default 127.0.0.1).")
        var hostname: String?
        @Option(name: "port", short: "p", help: "Port to bind (default 8090; 0 = any free port).")
        var port: Int?
        @Option(name: "latency-ms", help: "Fixed latency in milliseconds before every answer.")
        var latencyMs: Int?
        @Option(name: "api-key", help: "Require exactly this Bearer key (default: any non-empty key).")
        var apiKey: String?
        @Flag(name: "noise-images", help: "Answer with noise images (photograph-sized files) instead of the test pattern.")
        var noiseImages: Bool
        @Option(name: "noise-grain", help: "Noise images: pixels per noise sample (1 = a ~2.4 MB 1024x1024 PNG; default 2).")
        var noiseGrain: Int?
        @Flag(name: "noise-uniform", help: "Answer with uniform noise PNG cannot compress (a ~3.15 MB 1024x1024 PNG, like OpenAI's).")
        var noiseUniform: Bool
        @Flag(name: "reuse-images", help: "Answer repeated identical calls with the image made the first time (benchmarks).")
        var reuseImages: Bool
        @Option(name: "images-per-window", help: "Images each API key may have per window (default: no limit).")
        var imagesPerWindow: Int?
        @Option(name: "rate-window-seconds", help: "The window those images count over (default 60: a minute).")
        var rateWindowSeconds: Double?
        @Flag(name: "out-of-quota", help: "Start out of quota (429 insufficient_quota; POST /_standin/quota switches).")
        var outOfQuota: Bool

        public init() {}
    }

    public var help: String { "Runs the OpenAI-compatible stand-in upstream (images API, fault injection, inspection)." }

    public init() {}

    public func run(using context: CommandContext, signature: Signature) async throws {
        let hostname = signature.hostname ?? "127.0.0.1"
        let port = signature.port ?? 8090
        let environment = Environment(
            name: context.application.environment.name,
            arguments: ["atelier-stand-in", "serve", "--hostname", hostname, "--port", String(port)])
        let app = try await Application.make(environment)
        do {
            var options = StandInOptions(
                apiKey: signature.apiKey ?? Environment.get("STANDIN_API_KEY"),
                latencyMilliseconds: signature.latencyMs ?? 0)
            options.noiseImages = signature.noiseImages
            options.noiseGrain = signature.noiseGrain ?? 2
            options.noiseUniform = signature.noiseUniform
            options.reuseImages = signature.reuseImages
            options.imagesPerWindow = signature.imagesPerWindow
            options.rateWindowSeconds = signature.rateWindowSeconds ?? 60
            options.quotaExhausted = signature.outOfQuota
            try OpenAIStandIn.configure(app, options: options)
            app.http.server.configuration.backlog = 4096  // as `serve`: thousands of connections opened at once
            app.logger.notice("OpenAI stand-in listening on http://\(hostname):\(port)/v1")
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
