import AsyncHTTPClient
import AtelierCore
import AtelierServer
import AtelierTesting
import Fluent
import Foundation
import ImageProcessing
import Vapor

/// glibc's `malloc_trim` (not exported by the Glibc module): gives freed heap memory back before a measurement.
@_silgen_name("malloc_trim") private func mallocTrim(_ pad: Int) -> Int32

// MARK: - (d) peak memory of one job, in-process

/// Resident and peak-resident memory of this process, in bytes.
private func memory() -> (rss: Int, peak: Int) {
    let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    func kib(_ key: String) -> Int {
        let line = text.split(separator: "\n").first { $0.hasPrefix(key) } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
    return (kib("VmRSS:"), kib("VmHWM:"))
}

/// Resets VmHWM to the current RSS (Linux: `5` to /proc/self/clear_refs).
private func resetPeak() {
    _ = try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// One job at a time through the real path (OpenAI client → stand-in on another process, decode, blob write,
/// commit, events): the growth of this process's peak RSS over its RSS just before the job, divided by
/// the bytes of the image the job received (base64-decoded).
func jobMemory() async throws {
    AllocatorTuning.apply()  // as `atelier` does at start
    let standIn = option("standin", "http://127.0.0.1:8090")
    let size = option("size", "1536x1024")
    let jobs = Int(option("jobs", "12")) ?? 12
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-bench-\(UUID().uuidString)")
    var config = try AtelierConfig.testing(
        openAI: .init(apiKey: "sk-bench", baseURL: standIn + "/v1", timeoutSeconds: 120),
        database: .sqliteFile(folder.appendingPathComponent("atelier.sqlite").path))
    config.dataDirectory = folder.path
    let app = try await Application.make(.testing)
    app.logger.logLevel = .error
    try await configure(app, config: config)
    try await app.autoMigrate()
    try await app.asyncBoot()
    app.http.server.configuration.hostname = "127.0.0.1"
    app.http.server.configuration.port = 0
    try await app.server.start()
    let port = app.http.server.shared.localAddress?.port ?? 0
    let worker = app.makeJobWorker()
    let client = HTTPClient(eventLoopGroupProvider: .singleton)

    func runOne(_ index: Int, measured: Bool) async throws -> (image: Int, growth: Int)? {
        let (status, json) = try await post(
            client, "http://127.0.0.1:\(port)/v1/generate",
            ["prompt": "memory \(index)", "size": size, "quality": "high", "output_format": "png"])
        guard status == 202 else { throw Abort(.internalServerError, reason: "\(json)") }
        _ = mallocTrim(0)
        let before = memory().rss
        if measured { resetPeak() }
        guard try await worker.processNext() else { return nil }
        let peak = memory().peak
        let images = try await ImageRecord.query(on: app.db).filter(\.$role == "output").sort(\.$createdAt, .descending).first()
        return (images?.bytes ?? 0, peak - before)
    }

    for index in 0..<3 { _ = try await runOne(index, measured: false) }  // warm-up: pools, caches, libvips
    var rows: [(image: Int, growth: Int)] = []
    for index in 0..<jobs { if let row = try await runOne(100 + index, measured: true) { rows.append(row) } }
    // The thumbnail (made when first asked for, streamed from the stored file), on the last output image.
    let outputs =
        FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix("output-0.png") } ?? []
    var thumbnailGrowth = 0, pixelBytes = 0
    if let path = outputs.last, let data = FileManager.default.contents(atPath: folder.appendingPathComponent(path).path) {
        let info = try ImageProcessing.probe(data)
        pixelBytes = info.width * info.height * (info.hasAlpha ? 4 : 3)
        _ = mallocTrim(0)
        let before = memory().rss
        resetPeak()
        _ = try ImageProcessing.thumbnail(fileAt: folder.appendingPathComponent(path).path)  // as the worker does
        thumbnailGrowth = memory().peak - before
    }
    try await client.shutdown()
    await app.server.shutdown()
    try await app.asyncShutdown()
    try? FileManager.default.removeItem(at: folder)

    let ratios = rows.map { Double($0.growth) / Double(max($0.image, 1)) }
    let mib = { (bytes: Int) in String(format: "%.2f", Double(bytes) / 1_048_576) }
    print(
        "| jobs | image file (MiB, base64-decoded) | pixels (MiB) | peak growth p50 (MiB) | peak growth max (MiB) | max / file | max / pixels | thumbnail, made on first request (MiB) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    let growths = rows.map { Double($0.growth) }
    let worst = growths.max() ?? 0
    print(
        "| \(rows.count) | \(mib(rows.first?.image ?? 0)) | \(mib(pixelBytes)) | \(mib(Int(percentile(growths, 0.5)))) | \(mib(Int(worst))) | \(String(format: "%.2f", ratios.max() ?? .nan)) | \(String(format: "%.2f", worst / Double(max(pixelBytes, 1)))) | \(mib(thumbnailGrowth)) |"
    )
}
