import HavenCore

/// Decides a pushed batch, change by change, from the rows the store read: which are applied,
/// and what that writes. Pure: the store runs it inside its transaction.
///
/// Later changes of the batch see what earlier ones did: a change id repeated in the batch is a
/// duplicate, and a second change to a record merges into the first one's result.
struct PushBatch {
    private let admission: ChangeAdmission
    /// The store's epoch: a base cursor from another epoch saw nothing here.
    private let epoch: String
    private var head: Int64
    private var logged: Set<String>
    private let purged: Set<String>
    private var records: [String: StoredRecord]
    /// Ids of the records changed so far, in the order first changed.
    private var changedRecords: [String] = []
    private var changedSet: Set<String> = []
    private var entries: [LogEntry] = []
    private var conflicts: [(seq: Int64, conflict: Conflict)] = []

    init(rows: PushRows, admission: ChangeAdmission, epoch: String) {
        self.admission = admission
        self.epoch = epoch
        self.head = rows.head
        self.logged = rows.loggedChangeIDs
        self.purged = rows.purgedRecordIDs
        self.records = rows.records
    }

    /// What the store writes for the changes added so far.
    var writes: LogWrites {
        LogWrites(entries: entries, records: changedRecords.compactMap { records[$0] }, conflicts: conflicts)
    }

    /// Decides one change and, when it is applied, adds its writes.
    mutating func add(_ change: Change) -> PushResult {
        if logged.contains(change.id) { return PushResult(id: change.id, status: .duplicate) }
        let recordID = change.record.id
        if purged.contains(recordID) {
            return PushResult(
                id: change.id, status: .rejected,
                error: ErrorDetail(
                    code: .recordPurged,
                    message: "record \(recordID) was deleted and then purged from the server: it can no longer be changed or restored"
                ))
        }
        let existing = records[recordID]
        if let problem = admission.rejection(of: change, existing: existing?.record, creator: existing?.creator) {
            return PushResult(id: change.id, status: .rejected, error: problem)
        }
        let seq = head + 1
        let author = admission.caller.tokenID
        let seen = change.base.flatMap { $0.epoch == epoch ? $0.seq : nil } ?? 0
        var record = existing?.record ?? TrackedRecord(id: recordID, kind: change.record.kind)
        let found = record.apply(change.record, seq: seq, author: author, seen: seen)
        // The record as it will be, not only the change, must be whole: a story created already
        // deleted and then restored would otherwise skip its required fields.
        if let problem = ChangeAdmission.incompleteness(of: record) {
            return PushResult(id: change.id, status: .rejected, error: problem)
        }
        head = seq
        logged.insert(change.id)
        if changedSet.insert(recordID).inserted { changedRecords.append(recordID) }
        records[recordID] = StoredRecord(record: record, creator: existing?.creator ?? author)
        entries.append(LogEntry(seq: seq, change: change, author: author, receivedAt: admission.now))
        conflicts += found.map { (seq, $0) }
        return PushResult(id: change.id, status: .applied)
    }
}
