import HavenCore

/// Which records and log entries a compaction purges (the rules are in
/// `SQLiteSyncStore+Compaction.swift`): decided here from what the backend read, the same way
/// for every backend.
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
