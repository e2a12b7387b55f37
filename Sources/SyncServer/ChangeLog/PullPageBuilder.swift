import Foundation
import HavenCore

/// Fills one pull page: what the caller may see, bounded by count and bytes, each record as the
/// registers changed since the cursor, or whole when its visibility may have changed.
struct PullPageBuilder {
    let since: Int64
    let caller: Caller
    let maxBytes: Int
    let limit: Int
    private(set) var changes: [RecordState] = []
    private(set) var removed: [String] = []
    private(set) var more = false
    /// The `last_seq` of the last record taken into the page.
    private(set) var lastSeq: Int64 = 0
    private var bytes = 0
    /// How many records the page has consumed, visible to the caller or not.
    private(set) var taken = 0

    init(since: Int64, caller: Caller, maxBytes: Int, limit: Int) {
        self.since = since
        self.caller = caller
        self.maxBytes = maxBytes
        self.limit = limit
    }

    /// Takes `record` into the page; returns false, and marks `more`, when the page is full.
    mutating func add(_ record: TrackedRecord, creator: String) -> Bool {
        if taken == limit {
            more = true
            return false
        }
        if Visibility.canSee(record, creator: creator, caller: caller) {
            let entry = Visibility.mayHaveChanged(record, since: since) ? record.state : record.delta(since: since)
            let size = (try? CompactJSON.encode(entry).count) ?? 0
            if taken > 0, bytes + size > maxBytes {
                more = true
                return false
            }
            bytes += size
            changes.append(entry)
        } else if since > 0, Visibility.mayHaveChanged(record, since: since) {
            // The record may have been visible when the caller last pulled: tell it to drop
            // it. Records hidden all along stay unmentioned, so their ids never leak.
            removed.append(record.id)
            bytes += record.id.utf8.count + 3
        }
        taken += 1
        lastSeq = record.lastSeq
        return true
    }
}
