/// Which blobs and uploads a compaction removes (issue 17), decided the same way for every backend
/// from the rows the store read in the compaction's transaction.
///
/// Rule 1. A blob no record refers to is marked with the time compaction first saw it so (a new
/// blob is marked when it is stored, a blob a push refers to again is unmarked), and removed,
/// bytes and all, once its mark is older than the retention window: an upload whose record has
/// not been pushed yet, or a file dropped from a record by an edit that may still lose to a
/// concurrent one, has the whole window.
///
/// Rule 2. A blob that only purged records referred to goes with them at once: their delete is
/// already past the window.
///
/// Rule 3. An upload opened before the window and never finished is removed with its bytes.
struct MediaCollection: Sendable {
    /// Blobs to remove with their bytes and uploaders.
    var removedBlobs: [String] = []
    /// Blobs to mark as unreferenced since ``now``.
    var newlyUnreferenced: [String] = []
    /// Uploads opened before this time, milliseconds since 1970, are removed.
    var uploadCutoff: UInt64
    /// The compaction's clock, milliseconds since 1970.
    var now: UInt64

    /// - Parameters:
    ///   - cutoff: the start of the retention window, milliseconds since 1970.
    ///   - now: the compaction's clock.
    init(_ rows: MediaCollectionRows, cutoff: UInt64, now: UInt64) {
        self.uploadCutoff = cutoff
        self.now = now
        for (id, since) in rows.unreferenced.sorted(by: { $0.id < $1.id }) {
            if rows.purgedRecordBlobs.contains(id) || since.map({ $0 < cutoff }) == true {
                removedBlobs.append(id)
            } else if since == nil {
                newlyUnreferenced.append(id)
            }
        }
    }
}
