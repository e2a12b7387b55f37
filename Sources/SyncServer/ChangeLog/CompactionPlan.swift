import HavenCore

/// Which records and log entries a compaction purges (DESIGN §4), decided from the rows the
/// store read, the same way for every backend.
///
/// Rule 1. A tombstone whose delete was received before the window is purged whole: its record,
/// every log entry and every conflict about it, whatever their age. Only its id stays, so that
/// any later change to it is rejected as `record_purged` and the delete never comes back.
///
/// Rule 2. A log entry received before the window goes when no register of the merged state
/// refers to its `seq`. Pulls read only the merged state, so no page changes when the log
/// shrinks; only repeated pushes of such old changes are no longer recognised as duplicates.
///
/// Rule 3. A conflict goes when the change that caused it was received before the window.
///
/// Rule 4. The horizon is the highest `last_seq` of any purged record. A cursor below it may not
/// have seen a purged delete, so a pull from it throws ``CursorExpired``.
///
/// Rule 5. The head never moves back (``ChangeLogStorage`` rule 3), so a current cursor never
/// looks ahead of the log after compaction.
struct CompactionPlan {
    /// Records deleted before the window: purged whole, their ids kept.
    var purgedRecords: [String] = []
    /// Log entries received before the window that no register of the merged state refers to.
    var supersededEntries: [Int64] = []
    /// The highest `last_seq` of a purged record, or the previous horizon.
    var horizon: Int64

    /// - Parameters:
    ///   - oldEntries: record id → the `seq`s of its log entries received before the window.
    ///   - horizon: the store's horizon before this compaction.
    ///   - state: reads the merged state of a record, nil when there is none.
    init(oldEntries: [String: [Int64]], horizon: Int64, state: (String) throws -> TrackedRecord?) rethrows {
        self.horizon = horizon
        for (recordID, seqs) in oldEntries.sorted(by: { $0.key < $1.key }) {
            guard let record = try state(recordID) else {
                supersededEntries += seqs
                continue
            }
            if record.isDeleted, let delete = record.deleted, seqs.contains(delete.seq) {
                purgedRecords.append(recordID)
                self.horizon = max(self.horizon, record.lastSeq)
            } else {
                let current = Set(record.fields.values.map(\.seq) + [record.deleted?.seq].compactMap { $0 })
                supersededEntries += seqs.filter { !current.contains($0) }
            }
        }
    }
}
