import AsyncHTTPClient
import AtelierCore
import Fluent
import SQLKit
import Vapor

/// The doctor's checks, each bounded in time and each turning its failure into a row (never a thrown error).
struct DoctorChecks {
    let app: Application
    var missingDatabase: String?
    static let timeout: Duration = .seconds(10)
    static let failBelowFreeBytes: Int64 = 1 << 30
    static let warnBelowFreeBytes: Int64 = 5 << 30

    var config: AtelierConfig { app.atelier.config }

    func all() async -> [DoctorResult] {
        [configuration(), await database(), await storage(), await upstream(), disk()]
    }

    func configuration() -> DoctorResult {
        let database =
            switch config.database {
            case .sqliteFile(let path): "SQLite at \(path)"
            case .sqliteMemory: "SQLite in memory"
            case .postgres: "PostgreSQL"
            }
        let blobs = config.s3.map { "blobs in s3://\($0.bucket)/\($0.prefix)" } ?? "blobs in \(config.dataDirectory)/blobs"
        let mode = config.openAI.map { "OpenAI at \($0.baseURL)" } ?? "offline demo"
        var result = DoctorResult(check: "configuration", status: .ok, detail: "valid; \(database); \(blobs); \(mode)")
        if let problem = StudioFiles.problem(config) {
            result.status = .fail
            result.fix = problem
        } else {
            result.detail += "; studio in \(config.publicDirectory)"
        }
        return result
    }

    func database() async -> DoctorResult {
        if let path = missingDatabase {
            return DoctorResult(
                check: "database", status: .fail, detail: "no database at \(path) yet",
                fix: "run `atelier migrate` (or start `atelier serve`, which migrates)")
        }
        do {
            try await Self.bounded { _ = try await app.db.sql.raw("SELECT 1 AS one").all() }
        } catch {
            return DoctorResult(
                check: "database", status: .fail, detail: "unreachable: \(Self.describe(error))",
                fix: "check DATABASE_URL (host, port, user, password, database) and that the server runs")
        }
        do {
            switch try await Self.bounded({ try await app.migrationState() }) {
            case .current: return DoctorResult(check: "database", status: .ok, detail: "reachable; migrated")
            case .empty:
                return DoctorResult(
                    check: "database", status: .fail, detail: "reachable; no Atelier schema yet",
                    fix: "run `atelier migrate`")
            case .pending(let names):
                return DoctorResult(
                    check: "database", status: .fail, detail: "reachable; pending migrations: \(names.joined(separator: ", "))",
                    fix: "run `atelier migrate` (stop the service and back up first: see docs/DEPLOY.md)")
            }
        } catch {
            return DoctorResult(
                check: "database", status: .fail, detail: "reachable, but the migration state cannot be read: \(Self.describe(error))")
        }
    }

    func storage() async -> DoctorResult {
        let blobs = app.atelier.blobs
        let key = BlobKey("doctor/probe-\(UUID().uuidString.lowercased())")!
        let probe = Data("atelier doctor probe \(Date().timeIntervalSince1970)".utf8)
        let place = config.s3.map { "s3://\($0.bucket)/\($0.prefix)" } ?? "\(config.dataDirectory)/blobs"
        var step = "write"
        do {
            try await Self.bounded { try await blobs.put(probe, at: key) }
            step = "read"
            guard try await Self.bounded({ try await blobs.get(key) }) == probe else { throw OperatorError("the probe read back differs") }
            step = "delete"
            try await Self.bounded { try await blobs.delete(key) }
            guard try await !Self.bounded({ try await blobs.exists(key) }) else {
                throw OperatorError("the probe is still there after delete")
            }
            return DoctorResult(check: "storage", status: .ok, detail: "wrote, read and deleted a probe object in \(place)")
        } catch {
            let fix =
                config.s3 == nil
                ? "make \(config.dataDirectory) writable by the service's user (systemd: StateDirectory=)"
                : "check S3_ENDPOINT, S3_BUCKET, S3_REGION and that the keys may put, get and delete objects"
            return DoctorResult(check: "storage", status: .fail, detail: "\(step) failed in \(place): \(Self.describe(error))", fix: fix)
        }
    }

    /// `GET {OPENAI_BASE_URL}/models` with the key: cheap, no image made, and it proves the key and the network path.
    /// Nothing from the answer is printed but its status (the key never is).
    func upstream() async -> DoctorResult {
        guard let openAI = config.openAI else {
            return DoctorResult(check: "upstream", status: .offline, detail: "no OPENAI_API_KEY: offline demo with synthetic images")
        }
        let url = openAI.baseURL.hasSuffix("/") ? openAI.baseURL + "models" : openAI.baseURL + "/models"
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(openAI.apiKey)")
        if let organization = openAI.organization { request.headers.add(name: "OpenAI-Organization", value: organization) }
        if let project = openAI.project { request.headers.add(name: "OpenAI-Project", value: project) }
        do {
            let started = ContinuousClock.now
            let response = try await app.http.client.shared.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 4 << 20)
            let elapsed = ContinuousClock.now - started
            let took = String(format: "%.2f s", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            switch response.status.code {
            case 200:
                let ids = (try? JSONDecoder().decode(ModelList.self, from: body))?.data.map(\.id) ?? []
                let model = config.registry.defaultModel
                if !ids.isEmpty && !ids.contains(model) {
                    return DoctorResult(
                        check: "upstream", status: .warn, detail: "GET \(url): 200 in \(took), but \(model) is not listed",
                        fix: "this key's organization may not have access to \(model) (verify the organization, or set DEFAULT_MODEL)")
                }
                return DoctorResult(check: "upstream", status: .ok, detail: "GET \(url): 200 in \(took); the key works")
            case 401, 403:
                return DoctorResult(
                    check: "upstream", status: .fail, detail: "GET \(url): \(response.status.code), the key was refused",
                    fix: "check OPENAI_API_KEY (and OPENAI_ORGANIZATION / OPENAI_PROJECT when set)")
            default:
                return DoctorResult(
                    check: "upstream", status: .fail, detail: "GET \(url): HTTP \(response.status.code)",
                    fix: "check OPENAI_BASE_URL; it should end in /v1")
            }
        } catch {
            return DoctorResult(
                check: "upstream", status: .fail, detail: "GET \(url) failed: \(Self.describe(error))",
                fix: "check OPENAI_BASE_URL and that this machine can reach it (proxy, firewall, DNS)")
        }
    }

    func disk() -> DoctorResult {
        var folder = URL(fileURLWithPath: config.dataDirectory).standardizedFileURL
        while !FileManager.default.fileExists(atPath: folder.path) && folder.path != "/" { folder.deleteLastPathComponent() }
        guard let free = (try? FileManager.default.attributesOfFileSystem(forPath: folder.path))?[.systemFreeSize] as? NSNumber else {
            return DoctorResult(check: "disk", status: .warn, detail: "free space under \(folder.path) cannot be read")
        }
        let bytes = free.int64Value
        let detail = String(format: "%.1f GB free under %@", Double(bytes) / 1e9, folder.path)
        if bytes < Self.failBelowFreeBytes {
            return DoctorResult(
                check: "disk", status: .fail, detail: detail, fix: "free space or move DATA_DIR: jobs fail when images cannot be written")
        }
        if bytes < Self.warnBelowFreeBytes {
            return DoctorResult(check: "disk", status: .warn, detail: detail, fix: "under 5 GB free: plan more space or RETENTION_DAYS")
        }
        return DoctorResult(check: "disk", status: .ok, detail: detail)
    }

    private struct ModelList: Decodable {
        struct Model: Decodable { var id: String }
        var data: [Model]
    }

    /// Runs `work`, giving up after `timeout` (an unreachable host must not hang the doctor).
    static func bounded<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw OperatorError("no answer within \(timeout.components.seconds) s")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// One line about an error (PostgreSQL's errors hide their details from `description`).
    static func describe(_ error: any Error) -> String {
        let text = error is OperatorError || error is BlobStoreError ? "\(error)" : String(reflecting: error)
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count > 240 ? String(line.prefix(240)) + "…" : line
    }
}
