import AtelierCore
import AtelierServer
import Foundation

extension AtelierConfig {
    /// A configuration for tests: in-memory SQLite (or the PostgreSQL lane when TEST_DATABASE_URL is set,
    /// in a schema of its own), a temporary data folder, fast retries, the bundled registry, and — unless `access`
    /// says otherwise — login switched off (the local single user).
    public static func testing(
        openAI: OpenAI? = nil, maxAttempts: Int = 3, concurrency: Int = 4, perOwnerLimit: Int = 100,
        leaseSeconds: Double = 30, database: Database? = nil, access: Access? = nil
    ) throws -> AtelierConfig {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-test-\(UUID().uuidString)")
        return AtelierConfig(
            dataDirectory: directory.path, database: database ?? TestDatabase.current, openAI: openAI,
            registry: try ModelRegistry.bundled(),
            worker: Worker(
                enabled: false, concurrency: concurrency, perOwnerLimit: perOwnerLimit, maxAttempts: maxAttempts,
                leaseSeconds: leaseSeconds, retryBaseSeconds: 0.001, pollSeconds: 0.2, shutdownGraceSeconds: 5),
            publicDirectory: TestDatabase.packageRoot + "/Public/", maxUploadBytes: 900 * 1_048_576,
            maxFileBytes: 50 * 1_000_000, access: access ?? .localTesting)
    }
}

extension AtelierConfig.Access {
    /// Login off (the local single user, admin and verified), limits that never get in the way, cheap bcrypt.
    public static var localTesting: AtelierConfig.Access {
        AtelierConfig.Access(
            loginRequired: false, requestsPerMinute: 1_000_000, imagesPerMinute: 1_000_000, loginAttemptsPerMinute: 10_000,
            bcryptCost: 4)
    }

    /// Login required, otherwise like `localTesting`: for the account suites.
    public static var accountsTesting: AtelierConfig.Access {
        var access = localTesting
        access.loginRequired = true
        return access
    }
}

/// Which database the suite runs on.
public enum TestDatabase {
    /// PostgreSQL in a fresh schema when TEST_DATABASE_URL is set; in-memory SQLite otherwise.
    public static var current: AtelierConfig.Database {
        if let url = postgresURL {
            return .postgres(url: url + (url.contains("?") ? "&" : "?") + "search_path=t_" + UUID().uuidString.prefix(12).lowercased())
        }
        return .sqliteMemory
    }

    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public static var isPostgres: Bool { postgresURL != nil }

    /// The package folder, found from this source file.
    public static var packageRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
}
