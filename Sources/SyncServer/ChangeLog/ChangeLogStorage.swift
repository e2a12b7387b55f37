import HavenCore
import HavenTrust

/// What ``ChangeLog`` needs from a database: rows read and rows written, in transactions. Nothing
/// about sync is decided here; one implementation per backend does I/O only.
///
/// A write transaction always has three steps: read the rows the operation touches, hand them to
/// a decision of the change log, write the rows it returns. The decision is a pure, synchronous
/// function, so that it runs inside the transaction on every backend (GRDB's transactions are
/// synchronous closures) and sees exactly the rows it writes over. Reads and writes are batched,
/// a few statements per push rather than per change.
///
/// Rules every implementation keeps:
/// 1. Each write transaction (``push(_:decide:)``, ``compact(receivedBefore:decide:)``) is
///    atomic and serialized with every other one, on every instance: `seq` order is commit order,
///    and no reader ever sees a change without those committed before it.
/// 2. ``PullRows`` are read in one snapshot.
/// 3. The head is the largest `seq` ever appended; it never moves back, even when compaction
///    deletes the newest entry.
/// 4. An author's change id is in the log at most once (a unique index: the last line of defence).
/// 5. Deleted content is overwritten or vacuumed, so purged testimony leaves the disk.
/// 6. The published set's digest is stored beside the log, written in the transaction of the
///    push that changes it and read in the snapshot of the pull that reports it; a new or
///    migrated database computes it once from its records.
package protocol ChangeLogStorage: Sendable {
    /// The store's random id, carried in every cursor it issues.
    var epoch: String { get }

    /// Signalled after a commit that appended to the log: by this process's change log, and by
    /// the store when another process commits to the same database.
    var commits: ChangeSignal { get }

    /// Reads the rows a push touches, calls `decide` with them, and writes what it returns, in
    /// one transaction (rule 1).
    func push<Output: Sendable>(
        _ keys: PushKeys, decide: @escaping @Sendable (PushRows) throws -> (LogWrites, Output)
    ) async throws -> Output

    /// Reads, in one snapshot, what a pull page is made from (rule 2).
    ///
    /// - Parameters:
    ///   - position: records whose `last_seq` is above it are read, in `last_seq` order.
    ///   - limit: at most this many records.
    ///   - recipient: the token id whose conflicts are read, from above `position` to the head.
    ///   - readable: which records ``PullRows/recordsAfterPosition`` counts; nil counts none
    ///     (a caller that does not need the count, or knows it from the page before).
    ///   - whole: the caller pulls from scratch and gets each record whole: records are read as
    ///     ``PulledRecord/whole(_:)`` where their state as sent is stored.
    func pullRows(after position: Int64, limit: Int, recipient: String, readable: Readable?, whole: Bool) async throws
        -> PullRows

    /// Reads what compaction looks at, calls `decide`, and purges what it returns, in one
    /// transaction (rule 1); in the same transaction collects media (``MediaCollection``, from
    /// ``MediaCollectionRows`` read after the purge); then reclaims the space the purged rows
    /// took (rule 5).
    ///
    /// - Parameter cutoff: log entries received before it, in milliseconds since 1970, are read.
    func compact(receivedBefore cutoff: UInt64, decide: @escaping @Sendable (CompactionRows) throws -> PurgeWrites)
        async throws -> (PurgeWrites, PurgeCounts)

    /// Reads, in one snapshot, a record and every log entry about it, in `seq` order.
    func historyRows(of recordID: String) async throws -> HistoryRows

    /// The number of entries in the change log, for the `haven_change_log_rows` metric.
    func logSize() async throws -> Int
    /// Returns when the database answers a trivial query; throws otherwise. Backs `GET /healthz`.
    func checkHealth() async throws
}

/// A record as the state table holds it: its merged registers, who created it (and when, if
/// that made it theirs), and when it was first public.
package struct StoredRecord: Sendable, Hashable {
    package var record: TrackedRecord
    /// The token id whose change created the record; never changes.
    package var creator: String
    /// The `seq` of the change by which field staff created the record, and so own it; nil when
    /// an editor, an admin or an import created it (ownership gives them nothing).
    package var claimedSeq: Int64?
    /// The `seq` of the first change that made the record public (``Visibility/isPublic(_:)``),
    /// nil while it never was: only such records may ever be named to others as `removed`.
    package var firstPublicSeq: Int64?

    package init(record: TrackedRecord, creator: String, claimedSeq: Int64?, firstPublicSeq: Int64?) {
        self.record = record
        self.creator = creator
        self.claimedSeq = claimedSeq
        self.firstPublicSeq = firstPublicSeq
    }

    /// Whether every role may read the record now; stored beside it, so that a pull counts
    /// what remains for a caller without reading hidden records.
    package var isPublic: Bool { Visibility.isPublic(record) }
}

/// A record as a pull reads it.
package enum PulledRecord: Sendable, Hashable {
    /// Decoded, with where each register was set: what a delta is made from.
    case stored(StoredRecord)
    /// For a pull from scratch: the record's state exactly as a page carries it, stored beside
    /// the record when it was written (its wire form), so that a first sync sends stored text
    /// instead of decoding every record and writing it again (BENCHMARKS.md, issue 20).
    case whole(WholeRecord)
}

/// A live record's wire form, with what visibility is decided from.
package struct WholeRecord: Sendable, Hashable {
    package var id: String
    package var lastSeq: Int64
    package var creator: String
    package var isPublic: Bool
    /// The record's state as `CompactJSON` writes it: what ``TrackedRecord/state`` encodes to.
    package var wire: String

    package init(id: String, lastSeq: Int64, creator: String, isPublic: Bool, wire: String) {
        self.id = id
        self.lastSeq = lastSeq
        self.creator = creator
        self.isPublic = isPublic
        self.wire = wire
    }
}

extension StoredRecord {
    /// What the wire column holds for this record: its state as a page carries it to clients of
    /// protocol version 2 (its registers sharing the record's stamp); nil for a deleted record,
    /// which a pull from scratch never sends.
    package func wireForm() throws -> String? {
        record.isDeleted ? nil : String(decoding: try CompactJSON.encode(record.state, style: .sharedStamps), as: UTF8.self)
    }

    /// What a store keeps of each of `records`: its state (``StoredJSON``) and ``wireForm()``.
    /// Encoded on every core: the store runs this inside the transaction every push waits for,
    /// and on one thread these encodings were a fifth of it.
    static func storedForms(of records: [StoredRecord]) throws -> [(state: String, wire: String?)] {
        try records.concurrentMap { (state: try StoredJSON.encode($0.record), wire: try $0.wireForm()) }
    }
}

/// Which stored records a caller may read, as the store filters them when counting.
package enum Readable: Sendable, Equatable {
    /// Every record (editors and admins).
    case all
    /// Public records (readers).
    case publicOnly
    /// Public records and those the token created (field staff).
    case publicOrCreatedBy(String)
}

/// What a push reads: its author, and the change ids, record ids and replica ids of its batch.
package struct PushKeys: Sendable {
    package var author: String
    package var changeIDs: [String]
    package var recordIDs: [String]
    /// The replica ids the batch's stamps carry.
    package var replicaIDs: [String]
    /// The blob ids the batch's `media` fields name.
    package var blobIDs: [String] = []
}

/// The rows a push decides from.
package struct PushRows: Sendable {
    /// The largest `seq` ever given.
    package var head: Int64
    /// The digest of the published set at `head` (rule 6).
    package var publishedDigest = PublishedSetDigest()
    /// The author's changes already in the log under the batch's change ids, by id.
    package var loggedChanges: [String: Change] = [:]
    /// The token each of the batch's replica ids is bound to, where it is.
    package var replicaOwners: [String: String] = [:]
    /// Those of the batch's record ids that compaction purged.
    package var purgedRecordIDs: Set<String> = []
    /// The stored records among the batch's record ids, by id.
    package var records: [String: StoredRecord] = [:]
    /// Those of the batch's blob ids that are complete and that the author uploaded.
    package var uploadedBlobs: Set<String> = []
}

/// One change as the log keeps it.
package struct LogEntry: Sendable {
    package var seq: Int64
    package var change: Change
    /// `change` as the log stores it (``StoredJSON``): a push encodes it before its transaction,
    /// where it does not hold up the writer every push waits for.
    package var body: String
    /// The token id that pushed it.
    package var author: String
    /// When the server received it, milliseconds since 1970.
    package var receivedAt: UInt64
}

/// What a push writes: appended log entries (in `seq` order), the new state of every record they
/// changed, and the conflicts they caused, each under the `seq` of its change.
package struct LogWrites: Sendable {
    package var entries: [LogEntry] = []
    package var records: [StoredRecord] = []
    package var conflicts: [(seq: Int64, conflict: Conflict)] = []
    /// Replica ids seen for the first time, bound to the token that used them.
    package var replicaOwners: [String: String] = [:]
    /// The published set's new digest; nil when the push leaves the set as it was.
    package var publishedDigest: PublishedSetDigest?
    /// Record id → the blob ids its `media` field names now, for each record whose field changed.
    package var recordMedia: [String: [String]] = [:]
}

/// The rows a pull page is made from (``ChangeLogStorage/pullRows(after:limit:recipient:)``).
package struct PullRows: Sendable {
    package var head: Int64
    /// The highest `last_seq` of any purged record: cursors below it may have missed a delete.
    package var horizon: Int64
    /// Records changed after the position, in `last_seq` order, at most the limit.
    package var records: [PulledRecord]
    /// ``records`` read decoded (`whole` false): every one of them.
    package var storedRecords: [StoredRecord] {
        records.compactMap { if case .stored(let stored) = $0 { stored } else { nil } }
    }
    /// How many records the recipient may read changed after the position; nil when not counted.
    package var recordsAfterPosition: Int?
    /// The recipient's conflicts after the position, in the order they were made.
    package var conflicts: [(seq: Int64, conflict: Conflict)]
    /// Token id → name, for naming the winners of ``conflicts``; empty when there are none.
    package var tokenNames: [String: String]
    /// The digest of the published set at `head` (rule 6).
    package var publishedDigest = PublishedSetDigest()
    /// The key that signs now; nil when the server has none.
    package var signingKey: PublisherSigningKey? = nil
}

/// The rows compaction decides from.
package struct CompactionRows: Sendable {
    package var horizon: Int64
    /// Record id → the `seq`s of its log entries received before the cutoff.
    package var oldEntries: [String: [Int64]]
    /// The stored records that have such entries, by id.
    package var records: [String: TrackedRecord]
}

/// What compaction removes.
package struct PurgeWrites: Sendable {
    /// Records deleted whole, with every log entry and conflict about them; their ids are kept.
    package var purgedRecords: [String] = []
    /// Log entries deleted on their own.
    package var supersededEntries: [Int64] = []
    /// Conflicts caused by changes received before this (or whose change is gone) are deleted.
    package var conflictCutoff: UInt64 = 0
    /// The new horizon.
    package var horizon: Int64 = 0
    /// The compaction's clock, milliseconds since 1970: when blobs found unreferenced are marked.
    package var now: UInt64 = 0
}

/// What a record's history is made from (``ChangeLogStorage/historyRows(of:)``).
package struct HistoryRows: Sendable {
    /// Nil when there is no such record (or compaction purged it).
    package var record: StoredRecord?
    /// Its log entries, oldest first.
    package var entries: [LogEntry] = []
    /// Token id → name, for the entries' authors.
    package var tokenNames: [String: String] = [:]
    /// Compaction removed superseded entries received before this time (``PurgeWrites/conflictCutoff``).
    package var compactedBefore: UInt64?
}

/// How many rows compaction removed.
package struct PurgeCounts: Sendable {
    package var logEntries = 0
    package var conflicts = 0
    package var blobs = 0
}
