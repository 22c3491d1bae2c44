import Foundation

/// The stand-in's Files and Batches: uploaded files, batches and their progress. A batch moves one step per
/// `GET /v1/batches/{id}` (validating → in_progress → … → finalizing → completed) unless held, so tests control time.
actor StandInBatchStore {
    private var files: [String: StandInFile] = [:]
    private var batches: [String: StandInBatch] = [:]
    private var order: [String] = []
    private var stepping = Set<String>()
    /// While true, polling does not advance any batch.
    var held = false
    /// Lines executed per poll while in progress.
    let linesPerPoll: Int

    init(linesPerPoll: Int) { self.linesPerPoll = max(1, linesPerPoll) }

    static func now() -> Int { Int(Date().timeIntervalSince1970) }

    static func makeID(_ prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    }

    func setHeld(_ value: Bool) { held = value }

    func addFile(filename: String, purpose: String, data: Data) -> StandInFile {
        let file = StandInFile(id: Self.makeID("file-"), filename: filename, purpose: purpose, createdAt: Self.now(), data: data)
        files[file.id] = file
        return file
    }

    func file(_ id: String) -> StandInFile? { files[id] }

    func deleteFile(_ id: String) -> Bool { files.removeValue(forKey: id) != nil }

    func create(_ batch: StandInBatch) {
        batches[batch.id] = batch
        order.append(batch.id)
    }

    func batch(_ id: String) -> StandInBatch? { batches[id] }

    /// Newest first, after `after` (an id), at most `limit`.
    func list(after: String?, limit: Int) -> (batches: [StandInBatch], hasMore: Bool) {
        var ids = Array(order.reversed())
        if let after, let position = ids.firstIndex(of: after) { ids = Array(ids[(position + 1)...]) }
        let page = ids.prefix(limit).compactMap { batches[$0] }
        return (page, ids.count > limit)
    }

    func cancel(_ id: String) -> StandInBatch? {
        guard var batch = batches[id] else { return nil }
        if [.validating, .inProgress, .finalizing].contains(batch.status) {
            batch.move(to: .cancelling, at: Self.now())
            batches[id] = batch
        }
        return batch
    }

    /// Advances `id` one step; `execute` runs one line (outside any other step of the same batch).
    func advance(_ id: String, execute: @Sendable (StandInBatchLine, String) async -> StandInBatchResult) async -> StandInBatch? {
        guard var batch = batches[id] else { return nil }
        guard !held, !batch.isFinal, stepping.insert(id).inserted else { return batch }
        defer { stepping.remove(id) }
        let now = Self.now()
        switch batch.status {
        case .validating:
            switch StandInBatchLines.parse(files[batch.inputFileID]?.data ?? Data(), endpoint: batch.endpoint) {
            case .success(let lines):
                batch.lines = lines
                batch.total = lines.count
                batch.move(to: .inProgress, at: now)
            case .failure(let error):
                batch.errors = [error]
                batch.move(to: .failed, at: now)
            }
        case .inProgress:
            let pending = batch.lines[batch.results.count...].prefix(linesPerPoll)
            var results: [StandInBatchResult] = []
            for line in pending { results.append(await execute(line, batch.endpoint)) }
            // Another request may have cancelled or expired the batch while lines ran: keep its status.
            batch = batches[id] ?? batch
            if batch.isFinal { return batch }
            batch.results += results
            if batch.status == .inProgress, batch.results.count == batch.lines.count { batch.move(to: .finalizing, at: now) }
        case .finalizing:
            finish(&batch, as: .completed, unfinished: nil)
        case .cancelling:
            finish(
                &batch, as: .cancelled, unfinished: ("batch_cancelled", "This request was not executed because the batch was cancelled."))
        default: break
        }
        batches[id] = batch
        return batch
    }

    /// Ends `id` as expired after running nothing more: the unfinished lines go to the error file.
    func expire(_ id: String) -> StandInBatch? {
        guard var batch = batches[id], !batch.isFinal else { return batches[id] }
        if batch.lines.isEmpty,
            case .success(let lines) = StandInBatchLines.parse(files[batch.inputFileID]?.data ?? Data(), endpoint: batch.endpoint)
        {
            batch.lines = lines
            batch.total = lines.count
        }
        finish(
            &batch, as: .expired, unfinished: ("batch_expired", "This request could not be executed before the completion window expired."))
        batches[id] = batch
        return batch
    }

    private func finish(_ batch: inout StandInBatch, as status: StandInBatch.Status, unfinished: (code: String, message: String)?) {
        if let unfinished {
            for line in batch.lines[batch.results.count...] {
                batch.results.append(
                    StandInBatchResult(customID: line.customID, errorCode: unfinished.code, errorMessage: unfinished.message))
            }
        }
        var output = Data()
        var errors = Data()
        for result in batch.results {
            let line = result.jsonLine(id: Self.makeID("batch_req_"))
            if result.succeeded { output.append(line) } else { errors.append(line) }
        }
        if !output.isEmpty {
            batch.outputFileID = addFile(filename: "batch_\(batch.id)_output.jsonl", purpose: "batch_output", data: output).id
        }
        if !errors.isEmpty {
            batch.errorFileID = addFile(filename: "batch_\(batch.id)_error.jsonl", purpose: "batch_output", data: errors).id
        }
        batch.move(to: status, at: Self.now())
    }
}
