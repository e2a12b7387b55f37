import Foundation
import HavenCore
import HavenTrust

/// Decides a pushed batch, change by change, from the rows the store read: which are applied,
/// and what that writes. Pure: the store runs it inside its transaction.
///
/// Later changes of the batch see what earlier ones did: a change id repeated in the batch is a
/// duplicate (or a conflict, with other content), a second change to a record merges into the
/// first one's result, and a replica id bound by one change is bound for the next.
struct PushBatch {
    private let admission: ChangeAdmission
    /// The store's epoch: a base cursor from another epoch saw nothing here.
    private let epoch: String
    private var head: Int64
    private var logged: [String: Change]
    private let purged: Set<String>
    private var records: [String: StoredRecord]
    /// The records as the store read them, before the batch.
    private let before: [String: StoredRecord]
    private let digest: PublishedSetDigest
    private var replicaOwners: [String: String]
    /// Blob ids of the batch that are complete and that the author uploaded.
    private let uploadedBlobs: Set<String>
    /// Ids of the records whose `media` field a change of the batch wrote.
    private var mediaChanged: Set<String> = []
    /// Ids of the records changed so far, in the order first changed.
    private var changedRecords: [String] = []
    private var changedSet: Set<String> = []
    private var writes = LogWrites()

    init(rows: PushRows, admission: ChangeAdmission, epoch: String) {
        self.admission = admission
        self.epoch = epoch
        self.head = rows.head
        self.logged = rows.loggedChanges
        self.purged = rows.purgedRecordIDs
        self.records = rows.records
        self.before = rows.records
        self.digest = rows.publishedDigest
        self.replicaOwners = rows.replicaOwners
        self.uploadedBlobs = rows.uploadedBlobs
    }

    /// What the store writes for the changes added so far: with the published set's digest
    /// updated record by record, each record's state before the batch out and after it in.
    var logWrites: LogWrites {
        var writes = writes
        writes.records = changedRecords.compactMap { records[$0] }
        let moves = changedRecords.compactMap { id -> (old: RecordState?, new: RecordState?)? in
            let old = before[id].map(\.record).flatMap { Publication.isInPublishedSet($0) ? $0.state : nil }
            let new = records[id].map(\.record).flatMap { Publication.isInPublishedSet($0) ? $0.state : nil }
            return old == new ? nil : (old, new)
        }
        // 64 hashes a record in, 64 out: summed on every core, inside the writer's transaction.
        var published = digest
        let sums = moves.concurrentSlices { moves in
            var sum = PublishedSetDigest()
            for move in moves {
                if let old = move.old { sum.remove(old) }
                if let new = move.new { sum.add(new) }
            }
            return sum
        }
        for sum in sums { published.add(changesOf: sum) }
        writes.publishedDigest = published == digest ? nil : published
        for id in mediaChanged {
            writes.recordMedia[id] = MediaReference.references(in: records[id]?.record.fields["media"]?.register.value)
                .map(\.id)
        }
        return writes
    }

    private var author: String { admission.caller.tokenID }

    /// Decides one change and, when it is applied, adds its writes.
    mutating func add(_ prepared: PreparedChange) -> PushResult {
        let change = prepared.change
        if let earlier = logged[change.id] {
            // Only the very change is a duplicate: another under the same id would be dropped
            // by its sender as delivered, and lost.
            guard Self.isSame(change, as: earlier) else {
                return PushResult(
                    id: change.id, status: .rejected,
                    error: ErrorDetail(
                        code: .changeIDConflict,
                        message: "change id \(change.id) was already used by this account for another change: the replica was copied or restored; it must take a new replica id"))
            }
            return PushResult(id: change.id, status: .duplicate)
        }
        if let problem = foreignReplica(prepared) { return PushResult(id: change.id, status: .rejected, error: problem) }
        let recordID = change.record.id
        let existing = records[recordID]
        let seen = change.base.flatMap { $0.epoch == epoch ? $0.seq : nil } ?? 0
        if let problem = admission.rejection(
            of: change, refusedAlone: prepared.refusedAlone, existing: existing, purged: purged.contains(recordID), seen: seen)
        {
            return PushResult(id: change.id, status: .rejected, error: problem)
        }
        if let problem = missingMedia(in: change, existing: existing) {
            return PushResult(id: change.id, status: .rejected, error: problem)
        }
        let seq = head + 1
        var record = existing?.record ?? TrackedRecord(id: recordID, kind: change.record.kind)
        let found = record.apply(change.record, seq: seq, author: author, seen: seen)
        // The record as it will be, not only the change, must be whole: a story created already
        // deleted and then restored would otherwise skip its required fields. A creation leaves
        // the very state `rejection` judged whole.
        if let problem = (existing == nil ? nil : ChangeAdmission.incompleteness(of: record))
            ?? admission.reviewRefusal(of: change, existing: existing)
        {
            return PushResult(id: change.id, status: .rejected, error: problem)
        }
        head = seq
        logged[change.id] = change
        for replica in prepared.replicas where replicaOwners[replica] == nil {
            replicaOwners[replica] = author
            writes.replicaOwners[replica] = author
        }
        if changedSet.insert(recordID).inserted { changedRecords.append(recordID) }
        if change.record.fields["media"] != nil { mediaChanged.insert(recordID) }
        let firstPublic = existing?.firstPublicSeq ?? (Visibility.isPublic(record) ? seq : nil)
        let claimed = admission.caller.role == .field ? seq : nil
        records[recordID] = StoredRecord(
            record: record, creator: existing?.creator ?? author, claimedSeq: existing.map(\.claimedSeq) ?? claimed,
            firstPublicSeq: firstPublic)
        writes.entries.append(LogEntry(seq: seq, change: change, body: prepared.body, author: author, receivedAt: admission.now))
        writes.conflicts += found.map { (seq, $0) }
        return PushResult(id: change.id, status: .applied)
    }

    /// Why a change naming a media file the author has not uploaded whole is refused (issue 17):
    /// nobody may receive a reference to a missing file, nor claim a file by its hash alone. Files
    /// the record already names may stay.
    private func missingMedia(in change: Change, existing: StoredRecord?) -> ErrorDetail? {
        guard let ids = MediaReference.blobIDs(writtenBy: change.record) else { return nil }
        let named = Set(MediaReference.references(in: existing?.record.fields["media"]?.register.value).map(\.id))
        guard let missing = ids.first(where: { !named.contains($0) && !uploadedBlobs.contains($0) }) else { return nil }
        return ErrorDetail(
            code: .mediaMissing,
            message: "record \(change.record.id): media file \(missing) is not on the server as uploaded by this account: upload it first, then push the change again")
    }

    /// The replica ids a change's stamps carry.
    static func replicas(in change: Change) -> Set<String> {
        let stamps = change.record.fields.values.map(\.stamp) + [change.record.deleted?.stamp].compactMap { $0 }
        return Set(stamps.map(\.replica.rawValue))
    }

    /// Why a change stamped with another account's replica id is refused: its writes would count
    /// as that account's own, so the loser would never hear of a conflict.
    private func foreignReplica(_ prepared: PreparedChange) -> ErrorDetail? {
        let change = prepared.change
        guard let replica = prepared.replicas.sorted().first(where: { replicaOwners[$0].map { $0 != author } ?? false })
        else { return nil }
        return ErrorDetail(
            code: .replicaTaken,
            message: "record \(change.record.id): stamps carry replica id \(replica), which another account writes with: a replica stamps with its own id")
    }

    /// Whether `change` is the one logged as `earlier`, compared as the log keeps changes (JSON
    /// read back), so that a number sent as 2.0 is the 2 stored.
    private static func isSame(_ change: Change, as earlier: Change) -> Bool {
        if change == earlier { return true }
        guard let text = try? CompactJSON.encode(change),
            let again = try? JSONDecoder().decode(Change.self, from: Data(text))
        else { return false }
        return again == earlier
    }
}

/// A pushed change with what can be made of it before its transaction, where it does not hold up
/// the writer every push waits for: the text the log stores it as, the replica ids its stamps
/// carry, and any refusal that needs no stored row.
struct PreparedChange: Sendable {
    let change: Change
    /// `change` as the log stores it (``StoredJSON``).
    let body: String
    let replicas: Set<String>
    /// ``ChangeAdmission/refusal(ofAlone:)``.
    let refusedAlone: ErrorDetail?

    init(_ change: Change, admission: ChangeAdmission) throws {
        self.change = change
        body = try StoredJSON.encode(change)
        replicas = PushBatch.replicas(in: change)
        refusedAlone = admission.refusal(ofAlone: change)
    }
}
