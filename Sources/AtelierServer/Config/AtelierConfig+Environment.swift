import AtelierCore
import Foundation
import ObjectStorage
import Vapor

extension AtelierConfig {
    /// Reads the process environment (Vapor has already loaded `.env`), listing every problem at once.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> AtelierConfig {
        var problems: [String] = []
        func int(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) -> Int {
            guard let raw = env[name], !raw.isEmpty else { return fallback }
            guard let value = Int(raw), range.contains(value) else {
                problems.append("\(name)=\(raw) must be a whole number in \(range.lowerBound)…\(range.upperBound)")
                return fallback
            }
            return value
        }
        func bool(_ name: String, _ fallback: Bool) -> Bool {
            guard let raw = env[name]?.lowercased(), !raw.isEmpty else { return fallback }
            if ["1", "true", "yes", "on"].contains(raw) { return true }
            if ["0", "false", "no", "off"].contains(raw) { return false }
            problems.append("\(name)=\(raw) must be true or false")
            return fallback
        }

        let dataDirectory = env["DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./data"
        let database: Database =
            if let url = env["DATABASE_URL"], !url.isEmpty {
                url.hasPrefix("postgres") ? .postgres(url: url) : .sqliteFile(url.replacingOccurrences(of: "sqlite://", with: ""))
            } else {
                .sqliteFile(dataDirectory + "/atelier.sqlite")
            }
        var openAI: OpenAI?
        let provider = env["IMAGE_PROVIDER"]?.lowercased() ?? ""
        let upstreamKeys = env["OPENAI_API_KEYS"].map { UpstreamSettingsParser.keys($0, problems: &problems) } ?? []
        if let key = upstreamKeys.first?.apiKey ?? env["OPENAI_API_KEY"], !key.isEmpty, provider != "offline" {
            openAI = OpenAI(
                apiKey: key, baseURL: env["OPENAI_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://api.openai.com/v1",
                organization: env["OPENAI_ORGANIZATION"], project: env["OPENAI_PROJECT"],
                timeoutSeconds: int("OPENAI_TIMEOUT_SECONDS", 600, 5...3600))
        } else if provider == "openai" {
            problems.append("IMAGE_PROVIDER=openai needs OPENAI_API_KEY")
        }
        if !["", "openai", "offline"].contains(provider) {
            problems.append("IMAGE_PROVIDER=\(provider) must be openai or offline")
        }

        var registry: ModelRegistry?
        do {
            registry =
                try env["MODEL_REGISTRY_PATH"].flatMap { $0.isEmpty ? nil : $0 }
                .map { try ModelRegistry.load(from: URL(fileURLWithPath: $0)) } ?? ModelRegistry.bundled()
            if let id = env["DEFAULT_MODEL"], !id.isEmpty { registry = try registry?.withDefaultModel(id) }
        } catch { problems.append("\(error)") }

        var worker = Worker(
            enabled: bool("WORKER_ENABLED", true), concurrency: int("WORKER_CONCURRENCY", 8, 1...4096),
            perOwnerLimit: int("WORKER_PER_OWNER_LIMIT", 4, 1...4096), maxAttempts: int("JOB_MAX_ATTEMPTS", 5, 1...50),
            leaseSeconds: Double(int("JOB_LEASE_SECONDS", 60, 5...3600)), retryBaseSeconds: 2, pollSeconds: 2,
            shutdownGraceSeconds: Double(int("SHUTDOWN_GRACE_SECONDS", 30, 0...3600)))
        if let raw = env["METRICS_PORT"], !raw.isEmpty { worker.metricsPort = int("METRICS_PORT", 0, 1...65535) }
        if let host = env["METRICS_HOSTNAME"], !host.isEmpty { worker.metricsHostname = host }
        var config = AtelierConfig(
            dataDirectory: dataDirectory, database: database, openAI: openAI,
            registry: registry ?? ModelRegistry(defaultModel: "", models: [], retired: []), worker: worker,
            publicDirectory: StudioFiles.directory(environment: env) ?? "",
            maxUploadBytes: int("MAX_UPLOAD_MB", 900, 1...4096) * 1_048_576,
            maxFileBytes: 50 * 1_000_000,
            access: Access.fromEnvironment(env, problems: &problems))
        config.s3 = s3(env, problems: &problems)
        config.previewFormats = PreviewFormatSettings.parse(env["OPENAI_PREVIEW_FORMATS"], problems: &problems)
        config.upstream = upstream(env, keys: upstreamKeys, config: config, problems: &problems)
        config.webhooks = Webhooks.fromEnvironment(env, problems: &problems)
        guard problems.isEmpty else { throw ConfigError(problems: problems) }
        return config
    }

    /// `OPENAI_API_KEYS`, `OPENAI_RATE_LIMITS`, `OPENAI_RATE_WINDOW_SECONDS`, `JOB_RATE_LIMIT_WAIT`.
    static func upstream(_ env: [String: String], keys: [UpstreamKey], config: AtelierConfig, problems: inout [String]) -> Upstream {
        var upstream = Upstream()
        // A key without its own organization or project uses OPENAI_ORGANIZATION / OPENAI_PROJECT.
        upstream.keys =
            config.openAI == nil
            ? []
            : keys.map { key in
                var key = key
                key.organization = key.organization ?? env["OPENAI_ORGANIZATION"].flatMap { $0.isEmpty ? nil : $0 }
                key.project = key.project ?? env["OPENAI_PROJECT"].flatMap { $0.isEmpty ? nil : $0 }
                return key
            }
        let labels = upstream.keys.isEmpty ? ["default"] : upstream.keys.map(\.label)
        upstream.rules =
            env["OPENAI_RATE_LIMITS"].map {
                UpstreamSettingsParser.rules($0, keyLabels: labels, models: Set(config.registry.models.map(\.id)), problems: &problems)
            } ?? []
        func seconds(_ name: String, _ fallback: Double, _ range: ClosedRange<Double>) -> Double {
            guard let raw = env[name], !raw.isEmpty else { return fallback }
            guard let value = Double(raw), range.contains(value) else {
                problems.append("\(name)=\(raw) must be a number of seconds in \(range.lowerBound)…\(range.upperBound)")
                return fallback
            }
            return value
        }
        upstream.windowSeconds = seconds("OPENAI_RATE_WINDOW_SECONDS", 60, 0.5...3600)
        upstream.maxWaitSeconds = seconds("JOB_RATE_LIMIT_WAIT", 3600, 1...7 * 86_400)
        return upstream
    }

    /// `S3_BUCKET` switches blobs to an S3-compatible bucket; the keys are then required. The secret is never
    /// repeated in a message.
    static func s3(_ env: [String: String], problems: inout [String]) -> S3Configuration? {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let bucket = value("S3_BUCKET") else {
            if value("S3_PRESIGN") != nil { problems.append("S3_PRESIGN needs S3_BUCKET (presigned URLs are for images in a bucket)") }
            return nil
        }
        let region = value("S3_REGION") ?? "us-east-1"
        let endpoint = value("S3_ENDPOINT") ?? "https://s3.\(region).amazonaws.com"
        if URLComponents(string: endpoint)?.host == nil || !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            problems.append("S3_ENDPOINT=\(endpoint) must be an http(s) URL such as https://s3.eu-west-1.amazonaws.com")
        }
        let keyID = value("S3_ACCESS_KEY_ID") ?? value("AWS_ACCESS_KEY_ID")
        let secret = value("S3_SECRET_ACCESS_KEY") ?? value("AWS_SECRET_ACCESS_KEY")
        if keyID == nil || secret == nil {
            problems.append("S3_BUCKET=\(bucket) needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY")
        }
        var prefix = value("S3_PREFIX") ?? ""
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        return S3Configuration(
            endpoint: endpoint, bucket: bucket, region: region, accessKeyID: keyID ?? "", secretAccessKey: secret ?? "",
            prefix: prefix, presignSeconds: presignSeconds(env, problems: &problems))
    }
}

/// Start-up refused: every invalid or missing setting, one per line.
public struct ConfigError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String {
        "Atelier cannot start; fix these settings:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
