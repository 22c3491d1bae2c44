import Fluent
import Foundation
import SQLKit

/// The steps inside one transition's transaction, and a fault hook between them (tests only): throwing from it
/// rolls the whole transition back, as a process killed at that point would, so status, money and event are seen
/// all-or-nothing.
extension JobLifecycle {
    enum Step: String, Sendable, CaseIterable {
        /// The job row is written (its status changed).
        case rowWritten
        /// The reservation was made, settled or released.
        case moneyMoved
        /// The event (with its `seq`) and its webhook outbox rows are stored.
        case eventStored
    }

    func step(_ step: Step) throws { try faultAfter?(step) }

    /// What a transition leaves to do after its commit: hand the events to the streams (other instances get them
    /// by NOTIFY) and count them.
    struct Published: Sendable {
        var events: [JobEventPublisher.RecordedEvent] = []
        /// Caps the exact cost passed when it was settled (for the metric).
        var overruns: [SpendLedger.Overrun] = []
        /// The job as the transition left it (nil when the transition removed it or changed several jobs).
        var job: JobRecord? = nil
        /// `enqueue` with `startNow` claimed the job in its own transaction: how it was admitted upstream.
        var started: JobStartNow.Admitted? = nil
        /// The other instances were told of the queued job in its own statement (`PostgresAdmission`).
        var workAnnounced = false
    }

    /// Delivers what a committed transition recorded.
    func deliver(_ published: Published) async {
        published.overruns.forEach(publisher.metrics.spendOverrun)
        for event in published.events { await publisher.deliver(event) }
    }

    /// One row as the statement that changed it returned it.
    func job(_ row: (any SQLRow)?) throws -> JobRecord? {
        try row.map(JobRecord.init(row:))
    }
}
