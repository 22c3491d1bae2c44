import AtelierCore
import Foundation
import ObjectStorage

/// Every setting Atelier reads, parsed once at start (see `AtelierConfig+Environment.swift`).
public struct AtelierConfig: Sendable {
    public enum Database: Sendable, Equatable {
        case sqliteFile(String)
        case sqliteMemory
        case postgres(url: String)
    }

    public struct OpenAI: Sendable {
        public var apiKey: String
        public var baseURL: String
        public var organization: String?
        public var project: String?
        public var timeoutSeconds: Int

        public init(apiKey: String, baseURL: String, organization: String? = nil, project: String? = nil, timeoutSeconds: Int = 600) {
            self.apiKey = apiKey
            self.baseURL = baseURL
            self.organization = organization
            self.project = project
            self.timeoutSeconds = timeoutSeconds
        }
    }

    public struct Worker: Sendable {
        public var enabled: Bool
        /// Upstream calls in flight at once in this process.
        public var concurrency: Int
        /// Running jobs one owner may have at once across all workers.
        public var perOwnerLimit: Int
        public var maxAttempts: Int
        public var leaseSeconds: Double
        /// Base of the exponential retry back-off.
        public var retryBaseSeconds: Double
        /// How often a worker looks for jobs enqueued by other processes or due after a back-off.
        public var pollSeconds: Double
        public var shutdownGraceSeconds: Double
        /// `atelier worker` serves its own Prometheus text at `http://<metricsHostname>:<metricsPort>/metrics`
        /// when set (it has no other HTTP listener).
        public var metricsPort: Int?
        public var metricsHostname = "127.0.0.1"

        public init(
            enabled: Bool, concurrency: Int, perOwnerLimit: Int, maxAttempts: Int, leaseSeconds: Double,
            retryBaseSeconds: Double, pollSeconds: Double, shutdownGraceSeconds: Double
        ) {
            self.enabled = enabled
            self.concurrency = concurrency
            self.perOwnerLimit = perOwnerLimit
            self.maxAttempts = maxAttempts
            self.leaseSeconds = leaseSeconds
            self.retryBaseSeconds = retryBaseSeconds
            self.pollSeconds = pollSeconds
            self.shutdownGraceSeconds = shutdownGraceSeconds
        }
    }

    public var dataDirectory: String
    public var database: Database
    /// nil: the offline provider makes synthetic images.
    public var openAI: OpenAI?
    public var registry: ModelRegistry
    public var worker: Worker
    public var publicDirectory: String
    public var maxUploadBytes: Int
    public var maxFileBytes: Int
    /// Accounts, rate limits, spending caps, kill switch, retention.
    public var access: Access
    /// Where image blobs live: nil = `DATA_DIR/blobs` on local disk, else an S3-compatible bucket.
    public var s3: S3Configuration?
    /// Preview output formats enabled by `OPENAI_PREVIEW_FORMATS` (the admin page can enable more, not fewer).
    public var previewFormats: Set<String> = []
    /// Upstream keys, pacing and rate-limit waits (`UpstreamSettings.swift`).
    public var upstream = Upstream()
    /// Outgoing webhooks (`WEBHOOK_*`).
    public var webhooks = Webhooks()

    public var isOffline: Bool { openAI == nil }

    public init(
        dataDirectory: String, database: Database, openAI: OpenAI?, registry: ModelRegistry, worker: Worker,
        publicDirectory: String, maxUploadBytes: Int, maxFileBytes: Int, access: Access = Access()
    ) {
        self.dataDirectory = dataDirectory
        self.database = database
        self.openAI = openAI
        self.registry = registry
        self.worker = worker
        self.publicDirectory = publicDirectory
        self.maxUploadBytes = maxUploadBytes
        self.maxFileBytes = maxFileBytes
        self.access = access
    }
}
