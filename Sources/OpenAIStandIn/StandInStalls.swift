import Foundation
import Vapor

/// Answers held midway by a `stall` fault: the head and the first `bytes` of the body go out, then the answer waits
/// until `POST /_standin/release` (or the fault's `seconds`) and sends the rest, so a test can look at what its
/// client has while the upstream is still answering.
actor StandInStalls {
    private var waiting: [UUID: CheckedContinuation<Void, Never>] = [:]

    /// Waits until released or `seconds` passed.
    func wait(seconds: Double) async {
        let id = UUID()
        let timeout = Task {
            try await Task.sleep(for: .seconds(seconds))
            self.release(id)
        }
        await withCheckedContinuation { waiting[id] = $0 }
        timeout.cancel()
    }

    private func release(_ id: UUID) { waiting.removeValue(forKey: id)?.resume() }

    /// Lets every waiting answer go on; how many there were.
    func releaseAll() -> Int {
        let all = waiting.values
        waiting = [:]
        all.forEach { $0.resume() }
        return all.count
    }

    nonisolated func response(_ buffer: ByteBuffer, headers: HTTPHeaders, stall: StandInFault) -> Response {
        let cut = min(max(stall.bytes ?? 0, 0), buffer.readableBytes)
        let first = buffer.getSlice(at: buffer.readerIndex, length: cut)!
        let rest = buffer.getSlice(at: buffer.readerIndex + cut, length: buffer.readableBytes - cut)!
        return Response(
            status: .ok, headers: headers,
            body: .init(
                managedAsyncStream: { writer in
                    // An empty write flushes the head (Vapor writes it unflushed).
                    try await writer.write(.buffer(first))
                    await self.wait(seconds: stall.seconds ?? 30)
                    // A client that left during the stall fails this write; the managed stream then ends the writer
                    // with the error (an `asyncStream` closure that threw left it open: Vapor's debug assertion
                    // "Response body stream writer deinitialized before .end or .error was sent" crashed a test run).
                    try await writer.write(.buffer(rest))
                }, count: buffer.readableBytes))
    }
}
