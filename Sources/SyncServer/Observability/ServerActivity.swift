import Synchronization

/// What the console's health page tells of the running server beyond its database: the
/// long-polls waiting now, and the last compaction. One per application, in ``ServerMetrics``.
public final class ServerActivity: Sendable {
    /// The last compaction: when it ended (milliseconds since 1970) and what it purged.
    public struct Compaction: Sendable, Hashable {
        public var at: UInt64
        public var summary: CompactionSummary
    }

    private struct State {
        var longPolls = 0
        var lastCompaction: Compaction?
    }

    private let state = Mutex(State())

    public init() {}

    /// Pulls waiting for a change now.
    public var longPolls: Int { state.withLock { $0.longPolls } }

    /// The last compaction that succeeded since the server started; nil before the first.
    public var lastCompaction: Compaction? { state.withLock { $0.lastCompaction } }

    /// Runs `wait`, counted among ``longPolls`` while it runs.
    func waiting<Result>(_ wait: () async throws -> Result) async rethrows -> Result {
        state.withLock { $0.longPolls += 1 }
        defer { state.withLock { $0.longPolls -= 1 } }
        return try await wait()
    }

    /// Notes a compaction that ended at `at`.
    func compacted(_ summary: CompactionSummary, at: UInt64) {
        state.withLock { $0.lastCompaction = Compaction(at: at, summary: summary) }
    }
}
