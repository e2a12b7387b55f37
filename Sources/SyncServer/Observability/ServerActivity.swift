import Synchronization

/// What the console's health page tells of the running server beyond its database: the
/// long-polls waiting now, and the last compaction. One per application, in ``ServerMetrics``.
public final class ServerActivity: Sendable {
    /// The last compaction: when it ended (milliseconds since 1970) and what it purged.
    public struct Compaction: Sendable, Hashable {
        public var at: UInt64
        public var summary: CompactionSummary
    }

    /// The requests of one hour: pushes (and console edits, which take the push's path) and
    /// pulls (a page, or a streamed pull).
    public struct Hour: Sendable, Hashable {
        /// The hour's start, milliseconds since 1970.
        public var start: UInt64
        public var pushes = 0
        public var pulls = 0
    }

    /// Which count a request adds to.
    enum Traffic { case push, pull }

    private struct State {
        var longPolls = 0
        var lastCompaction: Compaction?
        /// The last day's hours that saw a request, oldest first.
        var hours: [Hour] = []
    }

    static let hour: UInt64 = 3_600_000

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

    /// Counts one request of `kind` at `now` (milliseconds since 1970). Any reading of the clock
    /// is counted: one that went back is counted in its own hour, and none overflows.
    func count(_ kind: Traffic, at now: UInt64) {
        let start = now - now % Self.hour
        state.withLock { state in
            var index = state.hours.firstIndex { $0.start >= start } ?? state.hours.endIndex
            if index == state.hours.endIndex || state.hours[index].start != start {
                state.hours.insert(Hour(start: start), at: index)  // Kept oldest first.
            }
            switch kind {
            case .push: state.hours[index].pushes += 1
            case .pull: state.hours[index].pulls += 1
            }
            // A day before the newest hour is forgotten (subtracted, not added: no overflow).
            let newest = state.hours[state.hours.count - 1].start
            state.hours.removeAll { newest - $0.start >= 24 * Self.hour }
        }
    }

    /// The 24 hours up to `now`'s, oldest first, each with what this server counted in it (none
    /// before it started).
    public func lastDay(now: UInt64) -> [Hour] {
        let current = now - now % Self.hour
        let counted = state.withLock { $0.hours }
        return (0..<24).map { back in
            let offset = UInt64(23 - back) * Self.hour
            let start = current > offset ? current - offset : 0
            return counted.first { $0.start == start } ?? Hour(start: start)
        }
    }

    /// Notes a compaction that ended at `at`.
    func compacted(_ summary: CompactionSummary, at: UInt64) {
        state.withLock { $0.lastCompaction = Compaction(at: at, summary: summary) }
    }
}
