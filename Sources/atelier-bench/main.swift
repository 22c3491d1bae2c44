// atelier-bench: queue and gateway benchmarks; prints markdown tables (see bench/README.md).
//   atelier-bench dispatch [--jobs N] [--claims M]        in-process; DATABASE_URL=postgres://… for PostgreSQL
//   atelier-bench latency --atelier URL --standin URL [--requests N] [--size WxH]
//   atelier-bench capacity --atelier URL --jobs N [--size WxH]
//   atelier-bench job-memory --standin URL [--jobs N] [--size WxH]   in-process; peak RSS growth per job
//   atelier-bench base64 [--megabytes 3] [--rounds 30]   in-process; decoding speed of a b64_json value
import AsyncHTTPClient
import AtelierCore
import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import NIOCore
import SQLKit
import Synchronization
import Vapor

// MARK: - helpers

func option(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    guard let index = args.firstIndex(of: "--\(name)"), index + 1 < args.count else { return fallback }
    return args[index + 1]
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func ms(_ seconds: Double) -> String { String(format: "%.2f", seconds * 1000) }

/// Peak resident set (VmHWM) of a process, in MiB.
func peakRSS(pid: String = "self") -> Double {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = text.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}

func post(_ client: HTTPClient, _ url: String, _ body: [String: String]) async throws -> (Int, [String: Any]) {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    // With login off any bearer token that is not an atl_ key is the local user, and spares the CSRF token.
    request.headers.add(name: "Authorization", value: "Bearer sk-bench")
    request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
    let response = try await client.execute(request, timeout: .seconds(600))
    let data = Data(try await response.body.collect(upTo: 256 << 20).readableBytesView)
    return (Int(response.status.code), (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
}

func get(_ client: HTTPClient, _ url: String) async throws -> [String: Any] {
    let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(60))
    let data = Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
}

/// Runs `count` tasks with at most `width` at once; returns each task's duration in seconds.
func timedConcurrently(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> [Double] {
    try await withThrowingTaskGroup(of: Double.self) { group in
        var next = 0
        var results: [Double] = []
        func add() {
            let index = next
            next += 1
            group.addTask {
                let start = ContinuousClock.now
                try await body(index)
                let elapsed = ContinuousClock.now - start
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
        }
        while next < min(width, count) { add() }
        while let value = try await group.next() {
            results.append(value)
            if next < count { add() }
        }
        return results
    }
}

/// An upstream that answers after `seconds` with a refusal (the job fails at once, no image work), or holds.
struct TimedProvider: ImageProvider {
    let seconds: Double
    func run(
        _ request: ProviderRequest, onPartial: @escaping @Sendable (ProviderPartialImage) async -> Void
    ) async throws(ProviderError) -> ProviderResult {
        do { try await Task.sleep(for: .seconds(seconds)) } catch { throw .canceled }
        throw .invalidRequest(message: "bench", param: nil, code: "bench")
    }
}

// MARK: - (a) dispatch latency and claim throughput, in-process

func dispatch() async throws {
    let jobs = Int(option("jobs", "300")) ?? 300
    let claims = Int(option("claims", "1000")) ?? 1000
    let dbURL = ProcessInfo.processInfo.environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-bench-\(UUID().uuidString)")
    let database: AtelierConfig.Database =
        dbURL.map {
            .postgres(url: $0 + ($0.contains("?") ? "&" : "?") + "search_path=bench_" + UUID().uuidString.prefix(8).lowercased())
        } ?? .sqliteFile(folder.appendingPathComponent("atelier.sqlite").path)
    let label = dbURL == nil ? "SQLite (file, WAL)" : "PostgreSQL"

    func withApp(_ provider: any ImageProvider, _ body: (Application, [JobWorker]) async throws -> Void) async throws {
        var config = try AtelierConfig.testing(concurrency: max(64, claims / 4 + 1), perOwnerLimit: 1_000_000, database: database)
        config.dataDirectory = folder.path
        config.worker.pollSeconds = 2
        config.worker.shutdownGraceSeconds = 0
        let app = try await Application.make(.testing)
        app.logger.logLevel = .error
        try await configure(app, config: config, overrides: .init(provider: provider))
        try await app.autoMigrate()
        try await app.asyncBoot()
        let port = try await { () async throws -> Int in
            app.http.server.configuration.hostname = "127.0.0.1"
            app.http.server.configuration.port = 0
            try await app.server.start()
            return app.http.server.shared.localAddress?.port ?? 0
        }()
        app.storage[PortKey.self] = port
        let workers = (0..<4).map { _ in app.makeJobWorker() }
        try await body(app, workers)
        await app.server.shutdown()
        try? await app.dropIsolatedSchema()
        try await app.asyncShutdown()
    }

    func runWorkers(_ workers: [JobWorker], hub: JobEventHub) -> @Sendable () async -> Void {
        let tasks = workers.map { worker in Task { await worker.run() } }
        return {
            tasks.forEach { $0.cancel() }
            await hub.wakeWorkers()
            for task in tasks { await task.value }
        }
    }

    let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))

    // Timestamps come from the jobs table (server clock): created_at (enqueued) and started_at (claimed).
    // The wait polls a COUNT, and reads the timestamps once at the end: decoding 1,000 job rows through Fluent
    // every 50 ms took three quarters of the process's CPU, away from the claims being measured.
    struct Times: Decodable { var created_at: Double; var started_at: Double? }
    func waitFor(_ app: Application, count: Int, status: [String]) async throws -> [Times] {
        let deadline = ContinuousClock.now + .seconds(300)
        let sql = app.db.sql
        while ContinuousClock.now < deadline {
            let done =
                try await sql.raw("SELECT COUNT(*) AS n FROM jobs WHERE status IN (\(binds: status))")
                .first(decodingColumn: "n", as: Int.self) ?? 0
            if done >= count {
                return try await sql.raw("SELECT created_at, started_at FROM jobs WHERE status IN (\(binds: status))")
                    .all(decoding: Times.self)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        fatalError("timed out waiting for \(count) jobs in \(status)")
    }

    // Dispatch latency: jobs enqueued one after another while 4 idle workers wait; enqueue → running per job.
    var latencies: [Double] = []
    try await withApp(TimedProvider(seconds: 0.001)) { app, workers in
        let port = app.storage[PortKey.self]!
        let stop = runWorkers(workers, hub: app.atelier.hub)
        for index in 0..<jobs {
            let (status, json) = try await post(client, "http://127.0.0.1:\(port)/v1/generate", ["prompt": "dispatch \(index)"])
            guard status == 202 else { fatalError("enqueue failed: \(status) \(json)") }
        }
        let rows = try await waitFor(app, count: jobs, status: ["failed", "succeeded"])
        latencies = rows.compactMap { row in row.started_at.map { $0 - row.created_at } }
        await stop()
    }

    // Claim throughput: `claims` jobs queued while no worker runs, then 4 workers start and claim them all
    // (the upstream holds, so every claim stays running); claims/s = claims / (last started_at − workers started).
    var throughput = 0.0
    try await withApp(TimedProvider(seconds: 3600)) { app, workers in
        let port = app.storage[PortKey.self]!
        _ = try await timedConcurrently(claims, width: 16) { index in
            let (status, json) = try await post(client, "http://127.0.0.1:\(port)/v1/generate", ["prompt": "claim \(index)"])
            guard status == 202 else { fatalError("enqueue failed: \(status) \(json)") }
        }
        let started = Date().timeIntervalSince1970
        let stop = runWorkers(workers, hub: app.atelier.hub)
        let rows = try await waitFor(app, count: claims, status: ["running"])
        let last = rows.compactMap(\.started_at).max() ?? started
        throughput = Double(claims) / (last - started)
        await stop()
    }
    try? FileManager.default.removeItem(at: folder)
    try await client.shutdown()

    print(
        """
        | database | workers | jobs | dispatch p50 (ms) | dispatch p99 (ms) | max (ms) | claims | claims/s |
        |---|---|---|---|---|---|---|---|
        | \(label) | 4 | \(latencies.count) | \(ms(percentile(latencies, 0.5))) | \(ms(percentile(latencies, 0.99))) | \(ms(latencies.max() ?? .nan)) | \(claims) | \(String(format: "%.0f", throughput)) |
        """)
}

struct PortKey: StorageKey { typealias Value = Int }

// MARK: - main

let mode = CommandLine.arguments.dropFirst().first ?? "dispatch"
switch mode {
case "dispatch": try await dispatch()
case "latency": try await latency()
case "capacity": try await capacity()
case "job-memory": try await jobMemory()
case "base64": base64Decoding()
default:
    FileHandle.standardError.write(Data("usage: atelier-bench dispatch|latency|capacity|job-memory|base64 [options]\n".utf8))
    exit(2)
}
