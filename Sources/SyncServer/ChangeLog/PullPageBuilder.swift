import Foundation
import HavenCore

/// Fills one pull page: what the caller may see, bounded by count and bytes, each record as the
/// registers changed since the cursor, or whole when its visibility may have changed.
///
/// A deleted record travels as its delete flag alone, and only to callers that may hold it:
/// content deleted because it endangers someone goes no further than it already went.
struct PullPageBuilder {
    let since: Int64
    /// How far the caller's catch-up from `since` has read: records up to it were sent already.
    let position: Int64
    let caller: Caller
    let maxBytes: Int
    let limit: Int
    private(set) var states: [RecordState] = []
    private(set) var wholeRecords: [String] = []
    private(set) var removed: [String] = []
    private(set) var more = false
    /// The `last_seq` of the last record taken into the page.
    private(set) var lastSeq: Int64 = 0
    private var bytes = 0
    /// How many records the page has consumed, visible to the caller or not.
    private(set) var taken = 0
    /// How many of those the caller may read.
    private(set) var readableTaken = 0

    init(since: Int64, position: Int64, caller: Caller, maxBytes: Int, limit: Int) {
        self.since = since
        self.position = position
        self.caller = caller
        self.maxBytes = maxBytes
        self.limit = limit
    }

    /// Takes `pulled` into the page; returns false, and marks `more`, when the page is full.
    mutating func add(_ pulled: PulledRecord) -> Bool {
        if taken == limit {
            more = true
            return false
        }
        switch pulled {
        case .stored(let stored): return add(stored)
        case .whole(let whole):
            // Only a pull from scratch reads records whole: each live one it may see goes whole.
            if Visibility.canSee(isPublic: whole.isPublic, creator: whole.creator, caller: caller) {
                guard fits(whole.wire.utf8.count) else { return false }
                wholeRecords.append(whole.wire)
                readableTaken += 1
            }
            taken += 1
            lastSeq = whole.lastSeq
            return true
        }
    }

    private mutating func add(_ stored: StoredRecord) -> Bool {
        let record = stored.record
        if Visibility.canSee(stored, caller: caller) {
            if let entry = entry(for: record) {
                // Measured as protocol 2 sends it, as the stored wire forms are.
                guard fits((try? CompactJSON.encode(entry, style: .sharedStamps).count) ?? 0) else { return false }
                states.append(entry)
            }
            readableTaken += 1
        } else if mayHaveBeenSent(stored) {
            // The caller may hold the record from when it was public: tell it to drop it.
            removed.append(record.id)
            bytes += record.id.utf8.count + 3
        }
        taken += 1
        lastSeq = record.lastSeq
        return true
    }

    /// Counts `size` bytes into the page, unless they would overfill it: then marks `more`.
    /// The first record always fits.
    private mutating func fits(_ size: Int) -> Bool {
        if taken > 0, bytes + size > maxBytes {
            more = true
            return false
        }
        bytes += size
        return true
    }

    /// What the caller gets of a record it may see: nothing of a tombstone it never held, the
    /// delete flag alone of one it may hold, the whole record where what decides its visibility
    /// changed (or it was restored), otherwise the registers changed since the cursor.
    private func entry(for record: TrackedRecord) -> RecordState? {
        let flagChanged = (record.deleted?.seq ?? 0) > since
        if record.isDeleted {
            guard since > 0, flagChanged else { return nil }
            return RecordState(id: record.id, kind: record.kind, deleted: record.deleted?.register)
        }
        if flagChanged || Visibility.mayHaveChanged(record, since: since) { return record.state }
        let delta = record.delta(since: since)
        return delta.fields.isEmpty && delta.deleted == nil ? nil : delta
    }

    /// Whether a record the caller cannot see now may have reached it: only a record that was
    /// public by the time the caller had read up to, and has changed visibility since. So a
    /// forged cursor learns no id that was never public, and hidden records stay unmentioned.
    private func mayHaveBeenSent(_ stored: StoredRecord) -> Bool {
        guard since > 0, let firstPublic = stored.firstPublicSeq, firstPublic <= position else { return false }
        return Visibility.mayHaveChanged(stored.record, since: since)
    }
}
