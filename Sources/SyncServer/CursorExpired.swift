/// Why a store refuses a pull: the cursor is behind the compaction horizon.
///
/// Records deleted at or before the horizon were purged, and a holder of an older cursor may
/// not have seen their delete. Deltas cannot tell it, so it must download everything again.
public struct CursorExpired: Error, Sendable, CustomStringConvertible {
    /// The log position the caller pulled from.
    public let since: Int64
    /// The highest `seq` at which a purged record last changed.
    public let horizon: Int64

    public init(since: Int64, horizon: Int64) {
        self.since = since
        self.horizon = horizon
    }

    public var description: String { "cursor \(since) is behind the compaction horizon \(horizon)" }
}
