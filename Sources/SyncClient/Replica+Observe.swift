import GRDB
import HavenCore

/// Records and status as sequences that follow the replica: what an app's list and badge show,
/// current after every edit and every page a sync applies.
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
        observe { db in try Self.records(db, kind: kind, includeDeleted: includeDeleted) }
    }

    /// The replica's status (unsent and rejected changes, conflicts, the last sync, media that
    /// keep failing), now and again after each transaction that changes it: what an app's badge
    /// or banner shows. Seen and ended as ``observeRecords(_:includeDeleted:)`` says.
    public func observeStatus() -> AsyncThrowingStream<ReplicaStatus, any Error> {
        observe { db in try status(db) }
    }

    /// `fetch`'s value now and after every transaction that changes what it read, consecutive
    /// equal values once, until the reading task is cancelled.
    private func observe<Value: Sendable & Equatable>(_ fetch: @escaping @Sendable (Database) throws -> Value)
        -> AsyncThrowingStream<Value, any Error>
    {
        let values = ValueObservation.tracking(fetch).removeDuplicates().values(in: database.pool)
        // A reader slower than the writes gets the latest value, not every one in between.
        return AsyncThrowingStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task {
                do {
                    for try await value in values { continuation.yield(value) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
