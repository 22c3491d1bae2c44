import AsyncHTTPClient
import AtelierCore
import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import NIOCore
import Synchronization
import Vapor

// MARK: - (b) added latency through Atelier vs a direct call

func latency() async throws {
    let atelier = option("atelier", "http://127.0.0.1:8080")
    let standIn = option("standin", "http://127.0.0.1:8090")
    let requests = Int(option("requests", "256")) ?? 256
    let size = option("size", "1024x1024")
    // `--route compat`: OpenAI's `POST /v1/images/generations` through Atelier (the image bytes come back);
    // otherwise `POST /v1/generate?wait` (the job JSON only).
    let compat = option("route", "native") == "compat"
    let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)))
    let body: [String: String] = ["prompt": "latency", "model": "gpt-image-2", "size": size, "quality": "low"]
    let errors = Atomic<Int>(0)
    print(
        "| concurrency | requests | direct p50 (ms) | direct p99 (ms) | Atelier p50 (ms) | Atelier p99 (ms) | added p50 (ms) | added p99 (ms) | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for width in (Int(option("widths", "")).map { [1, $0] } ?? [1, 64]) {
        let count = width == 1 ? max(20, requests / 4) : requests
        // warm-up
        _ = try await timedConcurrently(width, width: width) { _ in _ = try await post(client, "\(standIn)/v1/images/generations", body) }
        let direct = try await timedConcurrently(count, width: width) { _ in
            let (status, _) = try await post(client, "\(standIn)/v1/images/generations", body)
            if status != 200 { errors.add(1, ordering: .relaxed) }
        }
        let through = try await timedConcurrently(count, width: width) { _ in
            let (status, json) = try await post(client, "\(atelier)" + (compat ? "/v1/images/generations" : "/v1/generate?wait=600"), body)
            let ok = compat ? (json["data"] as? [Any])?.count == 1 : json["status"] as? String == "succeeded"
            if status != 200 || !ok { errors.add(1, ordering: .relaxed) }
        }
        let d50 = percentile(direct, 0.5), d99 = percentile(direct, 0.99)
        let a50 = percentile(through, 0.5), a99 = percentile(through, 0.99)
        print(
            "| \(width) | \(count) | \(ms(d50)) | \(ms(d99)) | \(ms(a50)) | \(ms(a99)) | \(ms(a50 - d50)) | \(ms(a99 - d99)) | \(errors.load(ordering: .relaxed)) |"
        )
    }
    try await client.shutdown()
}

// MARK: - (c) in-flight capacity

func capacity() async throws {
    let atelier = option("atelier", "http://127.0.0.1:8080")
    let jobs = Int(option("jobs", "2000")) ?? 2000
    let size = option("size", "1536x1024")
    let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
    let started = ContinuousClock.now
    let refused = Atomic<Int>(0)
    let ids = Mutex<[String]>([])
    _ = try await timedConcurrently(jobs, width: 64) { index in
        let (status, json) = try await post(
            client, "\(atelier)/v1/generate",
            [
                "prompt": "capacity \(index)", "model": "gpt-image-2", "size": size, "quality": "low",
            ])
        if status != 202 { refused.add(1, ordering: .relaxed) }
        if let id = json["id"] as? String { ids.withLock { $0.append(id) } }
    }
    let enqueued = ContinuousClock.now - started
    var peakRunning = 0
    var counts: [String: Int] = [:]
    while true {
        counts = [:]
        for state in ["queued", "running", "succeeded", "failed"] {
            var total = 0
            var cursor: String?
            repeat {
                let page = try await get(client, "\(atelier)/v1/jobs?status=\(state)&limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
                total += (page["data"] as? [Any])?.count ?? 0
                cursor = page["next_cursor"] as? String
            } while cursor != nil && state != "queued"
            counts[state] = total
        }
        peakRunning = max(peakRunning, counts["running"] ?? 0)
        if (counts["succeeded"] ?? 0) + (counts["failed"] ?? 0) >= jobs - refused.load(ordering: .relaxed) { break }
        try await Task.sleep(for: .seconds(1))
    }
    let total = ContinuousClock.now - started
    print("| jobs | refused | enqueue (s) | peak running seen | succeeded | failed | wall (s) |")
    print("|---|---|---|---|---|---|---|")
    print(
        "| \(jobs) | \(refused.load(ordering: .relaxed)) | \(enqueued.components.seconds) | \(peakRunning) | \(counts["succeeded"] ?? 0) | \(counts["failed"] ?? 0) | \(total.components.seconds) |"
    )
    try await client.shutdown()
}
