import GRDB
import HavenCore

/// Records as a sequence that follows the replica: what an app's list shows, current after every
/// edit and every page a sync applies.
extension Replica {
    /// The records of `kind` (all kinds when nil), sorted by id, now and again after each
    /// transaction that changes them: an edit, a page of a sync, a wipe.
    ///
    /// Transactions of this `Replica` are seen; another process writing the same file is not
    /// (open the replica once, and share it). Consecutive equal lists are given once. The
    /// sequence ends when the task reading it is cancelled; a failed read ends it with the error.
    ///
    /// For example, a list that updates when a sync lands:
    /// ```swift
    /// for try await stories in replica.observeRecords(.story) {
    ///     show(stories)
    /// }
    /// ```
    public func observeRecords(_ kind: RecordKind? = nil, includeDeleted: Bool = false)
        -> AsyncThrowingStream<[RecordState], any Error>
    {
        let observation = ValueObservation.tracking { db in
            try Self.records(db, kind: kind, includeDeleted: includeDeleted)
        }.removeDuplicates()
        let values = observation.values(in: database.pool)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await records in values { continuation.yield(records) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
