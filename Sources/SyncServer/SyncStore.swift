import Foundation
import HavenCore

/// Where the server keeps its change log, merged state and tokens: one protocol, one
/// implementation per backend.
///
/// Rules every implementation keeps:
/// 1. Appending a change to the log and updating the merged state is one transaction.
/// 2. Pushes are serialized, so `seq` order is commit order and no reader skips a change.
/// 3. A change id is in the log at most once; a repeated push answers `duplicate` (for as long
///    as compaction keeps its log entry: at least the retention window).
/// 4. Compaction purges a deleted record whole and keeps only its id: later changes to it are
///    rejected as `record_purged`, and it never comes back. Compaction never moves the head
///    back, so a pull's cursor never goes backwards.
/// 5. A pull from a cursor (`since` > 0) below the compaction horizon throws ``CursorExpired``.
public protocol SyncStore: Sendable {
    /// The store's random id, carried in every cursor it issues.
    var epoch: String { get }

    /// Admits, logs and merges a batch of changes, one result per change in order.
    ///
    /// - Parameters:
    ///   - now: the server's clock, milliseconds since 1970.
    ///   - maxDrift: how far ahead of `now` a stamp may be before it is refused as `clock_ahead`.
    func push(_ changes: [Change], by caller: Caller, now: UInt64, maxDrift: UInt64) async throws -> [PushResult]

    /// The records changed after `since` that `caller` may see, at most `limit` and about
    /// `maxBytes` of them, with the conflicts addressed to `caller`.
    ///
    /// - Parameter position: in the middle of a paged pull, the position of the last record
    ///   already sent; records are taken after it, still with every register changed after `since`.
    func pull(since: Int64, after position: Int64?, limit: Int, maxBytes: Int, for caller: Caller)
        async throws -> PullPage

    /// The caller a token hash belongs to, if the token exists and is valid at `now`.
    func caller(forTokenHash hash: Data, now: UInt64) async throws -> Caller?

    /// Stores a new token under its hash.
    func addToken(_ token: TokenInfo, hash: Data) async throws
    /// Every token, newest first.
    func tokens() async throws -> [TokenInfo]
    /// Revokes a token by id or name; returns false when there is none.
    func revokeToken(_ idOrName: String, now: UInt64) async throws -> Bool

    /// Purges, in one transaction, what the retention window no longer needs (DESIGN §4): deleted
    /// records whose delete is older than `retention`, content included; log entries older than
    /// it that no register of the merged state refers to; and conflicts older than it.
    ///
    /// For example, what `haven-server compact --retention 30d` runs:
    /// ```swift
    /// let summary = try await store.compact(retention: 30 * 86_400_000, now: clock())
    /// ```
    ///
    /// - Parameters:
    ///   - retention: the window in milliseconds.
    ///   - now: the server's clock, milliseconds since 1970.
    /// - Returns: what was purged, in counts, and the new horizon.
    func compact(retention: UInt64, now: UInt64) async throws -> CompactionSummary

    /// The number of entries in the change log, for the `haven_change_log_rows` metric.
    func logSize() async throws -> Int
    /// Returns when the database answers a trivial query; throws otherwise. Backs `GET /healthz`.
    func checkHealth() async throws

    /// Calls `onCommit` whenever another process commits a push to this database, so that this
    /// process's long-polls wake; returns only when the task is cancelled (or throws when the
    /// link to the database fails). Where only one process serves the database (SQLite) it just
    /// waits: the server's own pushes wake its long-polls directly.
    func listenForCommits(_ onCommit: @escaping @Sendable () -> Void) async throws

    /// Finishes with the database: afterwards every call throws. Called once no request is left.
    func close() async throws
}

extension SyncStore {
    public func listenForCommits(_ onCommit: @escaping @Sendable () -> Void) async throws {
        while true { try await Task.sleep(for: .seconds(3_600)) }
    }

    /// Admits, logs and merges a batch of changes with the default clock drift.
    public func push(_ changes: [Change], by caller: Caller, now: UInt64) async throws -> [PushResult] {
        try await push(changes, by: caller, now: now, maxDrift: HybridLogicalClock.defaultMaxDrift)
    }
}

/// One page of a pull, before the server adds its clock.
public struct PullPage: Sendable, Hashable {
    public var changes: [RecordState]
    public var removed: [String]
    public var conflicts: [Conflict]
    public var cursor: SyncCursor
    public var more: Bool
    /// When `more`: how many records changed after this page, whoever may see them.
    public var remaining: Int? = nil

    /// Whether the page tells the caller nothing new.
    public var isEmpty: Bool { changes.isEmpty && removed.isEmpty && conflicts.isEmpty && !more }
}
