/// What one compaction purged, in counts: never ids or content, so it can be printed and logged.
public struct CompactionSummary: Sendable, Hashable, Codable {
    /// Deleted records purged whole, content included, because their delete is past the window.
    public var purgedRecords = 0
    /// Log entries removed: superseded ones past the window, and every entry of a purged record.
    public var logEntries = 0
    /// Conflict entries removed: those past the window, and every one about a purged record.
    public var conflicts = 0
    /// Media files removed: referenced by nothing for longer than the window, or only by purged records.
    public var blobs = 0
    /// The horizon after compaction: a pull from a cursor below it is answered `410 cursor_expired`.
    public var horizon: Int64 = 0

    /// A summary of what one compaction purged.
    public init(purgedRecords: Int = 0, logEntries: Int = 0, conflicts: Int = 0, blobs: Int = 0, horizon: Int64 = 0) {
        self.blobs = blobs
        self.purgedRecords = purgedRecords
        self.logEntries = logEntries
        self.conflicts = conflicts
        self.horizon = horizon
    }
}
