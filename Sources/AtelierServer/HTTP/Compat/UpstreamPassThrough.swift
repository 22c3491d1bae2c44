import AtelierCore
import Foundation
import OpenAIImages
import Vapor

/// The fast path of `POST /v1/images/generations|edits`: the caller's answer is the upstream's own response body,
/// forwarded chunk by chunk as it arrives, while the worker decodes, stores and commits the same bytes. The
/// answer waits on neither Atelier's fsync nor its commit. See "The fast path" in docs/ARCHITECTURE.md.
enum UpstreamPassThrough {
    enum First {
        /// The upstream's answer, being forwarded.
        case forwarded(Response)
        /// No answer to forward (the job ended first, or the upstream answered in the other framing): the stored
        /// job (nil if it is gone), still running when the wait timed out.
        case stored(JobRecord?)
    }

    /// Waits for whichever comes first: an attempt's 2xx head from the upstream, or the job's end. Registers the
    /// caller at once (call it right after the job's admission); the answer is completed on the request's event loop,
    /// with no task in between when the head arrives there (so the head leaves in the same pass of that loop).
    /// `mark`: `JobEndings.mark()` taken before this request created the job (nil for a replayed job); with it
    /// the job's end is awaited as a promise on the loop (no task, no read of the job) unless the hub cannot vouch
    /// that it has not ended yet.
    static func first(
        _ req: Request, jobID: UUID, mark: Int?, wantsEventStream: Bool, seconds: Double
    ) -> EventLoopFuture<First> {
        let taps = req.atelier.responseTaps
        let listener = taps.listen(jobID, on: req.eventLoop, logger: req.logger)
        // The stored job once the job has ended (or the wait timed out). Not cancelled once an answer is forwarded:
        // cancelling a task wakes it at once (a thread wake-up on the head's way, up to 1.5 ms on a busy machine);
        // the wait ends with the job's terminal event instead, and reads nothing then.
        let stored: @Sendable () -> EventLoopFuture<First>
        if let mark,
            let end = req.atelier.hub.endings.follow(
                jobID, since: mark, on: req.eventLoop, timeout: .nanoseconds(Int64(seconds * 1e9)))
        {
            end.whenComplete { _ in taps.stopListening(jobID) }
            stored = { end.flatMap { _ in req.eventLoop.makeFutureWithTask { .stored(try await JobRecord.find(jobID, on: req.db)) } } }
        } else {
            let ended = Task {
                defer { taps.stopListening(jobID) }
                return try await JobResponder(req: req).waitForEndEvent(jobID, seconds: seconds)
            }
            stored = {
                req.eventLoop.makeFutureWithTask {
                    switch try await ended.value {
                    case .event: .stored(try await JobRecord.find(jobID, on: req.db))
                    case .read(let job): .stored(job)
                    }
                }
            }
        }
        let logger = req.logger
        return listener.head.flatMap { head in
            // No answer to forward, or one in the other framing (e.g. `stream=true` without partial images, the
            // upstream answered JSON): the stored job.
            guard case .upstream(let contentType, let length) = head,
                contentType.lowercased().contains("text/event-stream") == wantsEventStream
            else { return stored() }
            return req.eventLoop.makeSucceededFuture(
                .forwarded(response(contentType: contentType, length: length, body: listener.body, jobID: jobID, logger: logger)))
        }
    }

    private static func response(contentType: String, length: Int?, body: ForwardedBody, jobID: UUID, logger: Logger) -> Response {
        let response = Response(status: .ok)
        response.headers.replaceOrAdd(name: .contentType, value: contentType)
        if contentType.contains("event-stream") { response.headers.replaceOrAdd(name: .cacheControl, value: "no-cache") }
        // The upstream's length when it sent one for these very bytes: no chunk framing; a cut-short body still
        // ends the connection early, so the caller sees fewer bytes than announced.
        response.body = .init(
            stream: { writer in
                // Vapor has written the head onto the caller's connection (unflushed; `start` flushes it).
                FastPathTrace.mark("head_written", job: jobID, logger: logger)
                body.start(writer)
            }, count: length ?? -1)
        return response
    }
}
