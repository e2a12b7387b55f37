/// A sync as a sequence, for an app's progress bar: each ``SyncProgress`` as it comes, then the
/// summary.
public enum SyncUpdate: Sendable {
    /// Where the sync stands: after a page, a batch, or a failure it waits out.
    case progress(SyncProgress)
    /// The sync is over; for ``SyncEngine/updates(watching:)`` with `watching`, only when the
    /// task reading the sequence is cancelled.
    case finished(SyncEngine.Summary)
}

extension SyncEngine {
    /// Syncs once (or, `watching`, keeps the replica current as ``watch(into:)`` does), handing
    /// each progress as it comes and the summary last. The error that stops the sync ends the
    /// sequence. Cancelling the task that reads it stops the sync between transactions: what was
    /// applied stays applied, and the next sync resumes from there.
    ///
    /// The engine's own `progress` closure is called as well.
    ///
    /// For example:
    /// ```swift
    /// for try await update in engine.updates() {
    ///     switch update {
    ///     case .progress(let progress): bar.show(progress.summary.pulledRecords)
    ///     case .finished(let summary): print("\(summary.pulledRecords) received")
    ///     }
    /// }
    /// ```
    public func updates(watching: Bool = false) -> AsyncThrowingStream<SyncUpdate, any Error> {
        // A reader slower than the reports gets the latest ones; the summary, last, always comes.
        AsyncThrowingStream(bufferingPolicy: .bufferingNewest(16)) { continuation in
            let reported = progress
            let engine = SyncEngine(
                replica: replica, api: api, configuration: configuration, clock: clock, random: random,
                progress: { progress in
                    reported?(progress)
                    continuation.yield(.progress(progress))
                })
            let task = Task {
                do {
                    var summary = Summary()
                    if watching { try await engine.watch(into: &summary) } else { summary = try await engine.sync() }
                    continuation.yield(.finished(summary))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
