import HavenCore
import HavenTrust
import ServiceLifecycle

/// The server's sync algorithm, written once for every backend: push, pull and compaction of the
/// append-only change log, over a ``ChangeLogStorage`` that only reads and writes rows. The rules
/// are HavenCore's article *The change log and cursors* (Sources/Core/HavenCore.docc); here is
/// where each is kept.
///
/// Rule 1. Push: the article's rules 1 and 2, answered `applied`, `duplicate` or `rejected`
/// change by change.
///
/// Rule 2. Who may write what is decided by ``ChangeAdmission`` before anything is written; who
/// may read what by ``Visibility`` as a page is filled. Ownership is the stored `creator`.
///
/// Rule 3. Pull: the article's rule 3; a full page's cursor keeps its base and carries its position.
///
/// Rule 4. A cursor the log cannot catch up with (the article's rule 5): the pull throws
/// ``CursorExpired``.
///
/// Rule 5. Compaction (``CompactionPlan``): the article's rule 5. It never changes the published
/// set: only deleted records and superseded entries go.
///
/// Rule 6. Each push keeps the published set's digest (``PublishedSetDigest``) in its
/// transaction (``PushBatch/logWrites``); a page that brings its caller to the head carries the
/// signing key's signature over the digest read in the page's snapshot, at the page's cursor.
///
/// For example, what `POST /v1/changes` and `GET /v1/changes` run:
/// ```swift
/// let log = ChangeLog(storage: store)
/// let results = try await log.push(changes, by: caller, now: wallClock())
/// let page = try await log.pull(since: cursor, limit: 500, maxBytes: 1 << 20, for: caller)
/// ```
package struct ChangeLog: Sendable {
    package let storage: any ChangeLogStorage
    /// Measures long-poll waits.
    let clock: any Clock<Duration>

    package init(storage: any ChangeLogStorage, clock: any Clock<Duration> = ContinuousClock()) {
        self.storage = storage
        self.clock = clock
    }

    /// Admits, logs and merges a batch of changes in one transaction; one result per change, in
    /// order (rule 1).
    ///
    /// - Parameters:
    ///   - now: the server's clock, milliseconds since 1970.
    ///   - maxDrift: how far ahead of `now` a stamp may be before it is refused as `clock_ahead`.
    ///   - review: how many people publishing needs (``ReviewRule``).
    package func push(
        _ changes: [Change], by caller: Caller, now: UInt64, maxDrift: UInt64 = HybridLogicalClock.defaultMaxDrift,
        review: ReviewPolicy = .two
    ) async throws -> [PushResult] {
        let admission = ChangeAdmission(caller: caller, now: now, maxDrift: maxDrift, review: review)
        let epoch = storage.epoch
        // Made here, while another push may hold the writer, not inside the transaction.
        let prepared = try changes.map { try PreparedChange($0, admission: admission) }
        let keys = PushKeys(
            author: caller.tokenID, changeIDs: changes.map(\.id), recordIDs: changes.map(\.record.id),
            replicaIDs: Array(prepared.reduce(into: Set()) { $0.formUnion($1.replicas) }),
            blobIDs: Array(Set(changes.flatMap { MediaReference.blobIDs(writtenBy: $0.record) ?? [] })))
        let results = try await storage.push(keys) { rows in
            var batch = PushBatch(rows: rows, admission: admission, epoch: epoch)
            let results = prepared.map { batch.add($0) }
            return (batch.logWrites, results)
        }
        if results.contains(where: { $0.status == .applied }) { storage.commits.signal() }
        return results
    }

    /// One page of what `caller` may see after `since`, with the conflicts addressed to it
    /// (rule 3). With `wait`, a pull that finds nothing waits up to that long for a commit, and
    /// answers at once on graceful shutdown.
    ///
    /// `remainingBefore` is the `remaining` of the page before, for a stream: the page's own is
    /// then that less what it brings, not counted again. Counted at every page, the records left
    /// made a download's cost grow with the square of its size: the 277 lines of a
    /// 10,500-record stream visited 1.5 million index entries to count them; 100,000 records
    /// would take about 130 million.
    ///
    /// - Throws: ``CursorExpired`` (rule 4).
    package func pull(
        since cursor: SyncCursor?, limit: Int, maxBytes: Int, for caller: Caller, wait: Duration = .zero,
        remainingBefore: Int? = nil
    ) async throws -> PullPage {
        try await longPoll(
            since: cursor, limit: limit, maxBytes: maxBytes, for: caller, wait: wait, remainingBefore: remainingBefore,
            clock: clock)
    }

    private func longPoll<C: Clock<Duration>>(
        since cursor: SyncCursor?, limit: Int, maxBytes: Int, for caller: Caller, wait: Duration, remainingBefore: Int?,
        clock: C
    ) async throws -> PullPage {
        let deadline = clock.now.advanced(by: wait)
        let commits = storage.commits
        var cursor = cursor
        while true {
            let generation = commits.generation
            let page = try await page(
                since: cursor, limit: limit, maxBytes: maxBytes, for: caller, remainingBefore: remainingBefore)
            let remaining = clock.now.duration(to: deadline)
            guard page.isEmpty, remaining > .zero, !Task.isShuttingDownGracefully else { return page }
            await withGracefulShutdownHandler {
                await commits.wait(after: generation, timeout: remaining, clock: clock)
            } onGracefulShutdown: {
                commits.signal()
            }
            cursor = page.cursor
        }
    }

    private func page(since cursor: SyncCursor?, limit: Int, maxBytes: Int, for caller: Caller, remainingBefore: Int?)
        async throws -> PullPage
    {
        let epoch = storage.epoch
        if let cursor, cursor.epoch != epoch { throw CursorExpired(.otherDatabase) }
        let since = cursor?.seq ?? 0
        let position = cursor?.position ?? since
        let rows = try await storage.pullRows(
            after: position, limit: limit + 1, recipient: caller.tokenID,
            readable: remainingBefore == nil ? Readable(caller) : nil, whole: since == 0)
        // A database restored from an older copy: pulling on would skip the changes that refill
        // the positions the cursor has already passed.
        if position > rows.head { throw CursorExpired(.aheadOfLog) }
        if since > 0, since < rows.horizon { throw CursorExpired(.behindHorizon) }

        var page = PullPageBuilder(since: since, position: position, caller: caller, maxBytes: maxBytes, limit: limit)
        for stored in rows.records {
            guard page.add(stored) else { break }
        }
        // A full page continues from its last record with the same base; the last page brings
        // the caller to the head of the log.
        let through = page.more ? page.lastSeq : rows.head
        let conflicts = rows.conflicts.filter { $0.seq <= through }.map { Self.namingWinner(of: $0.conflict, rows.tokenNames) }
        return PullPage(
            states: page.states, wholeRecords: page.wholeRecords, removed: page.removed, conflicts: conflicts,
            cursor: page.more
                ? SyncCursor(epoch: epoch, seq: since, position: through) : SyncCursor(epoch: epoch, seq: through),
            more: page.more,
            remaining: page.more ? max(0, (rows.recordsAfterPosition ?? remainingBefore ?? 0) - page.readableTaken) : nil,
            signature: page.more ? nil : try rows.signingKey?.sign(rows.publishedDigest, seq: through))
    }

    /// Purges, in one transaction, what the retention window no longer needs (rule 5).
    ///
    /// For example, what `haven-server compact --retention 30d` runs:
    /// ```swift
    /// let summary = try await log.compact(retention: 30 * 86_400_000, now: wallClock())
    /// ```
    ///
    /// - Parameters:
    ///   - retention: the window in milliseconds.
    ///   - now: the server's clock, milliseconds since 1970.
    /// - Returns: what was purged, in counts, and the new horizon.
    package func compact(retention: UInt64, now: UInt64) async throws -> CompactionSummary {
        let cutoff = now > retention ? now - retention : 0
        let (purge, counts) = try await storage.compact(receivedBefore: cutoff) { rows in
            let plan = CompactionPlan(oldEntries: rows.oldEntries, horizon: rows.horizon) { rows.records[$0] }
            return PurgeWrites(
                purgedRecords: plan.purgedRecords, supersededEntries: plan.supersededEntries, conflictCutoff: cutoff,
                horizon: plan.horizon, now: now)
        }
        return CompactionSummary(
            purgedRecords: purge.purgedRecords.count, logEntries: counts.logEntries, conflicts: counts.conflicts,
            blobs: counts.blobs, horizon: purge.horizon)
    }

    /// `conflict` with its winner's token id replaced by the token's name.
    private static func namingWinner(of conflict: Conflict, _ names: [String: String]) -> Conflict {
        var conflict = conflict
        conflict.winnerAuthor =
            conflict.winnerAuthor == PackImporter.author.tokenID
            ? PackImporter.author.name : names[conflict.winnerAuthor] ?? "unknown"
        return conflict
    }
}

/// One page of a pull, before the server adds its clock.
package struct PullPage: Sendable, Hashable {
    /// Records the page carries as values: deltas, and whole records without a wire form.
    package var states: [RecordState]
    /// Records sent whole as their stored wire form (``PulledRecord/whole(_:)``), written into
    /// the answer as they are, after ``states``.
    package var wholeRecords: [String] = []
    package var removed: [String]
    package var conflicts: [Conflict]
    package var cursor: SyncCursor
    package var more: Bool
    /// When `more`: how many records the caller may read changed after this page.
    package var remaining: Int? = nil
    /// On the last page, when the server has a signing key: its signature over the published
    /// set at the page's cursor (rule 6).
    package var signature: PublishedSetSignature? = nil

    /// Whether the page tells the caller nothing new.
    package var isEmpty: Bool { states.isEmpty && wholeRecords.isEmpty && removed.isEmpty && conflicts.isEmpty && !more }

    /// Every record the page carries, decoded: what a client reads of it. The routes write
    /// ``answer(serverTime:)`` instead.
    package var changes: [RecordState] {
        // Text this server wrote from a record it had decoded: it reads back.
        states + wholeRecords.map { try! JSONReader.decode(RecordState.self, from: $0) }
    }

    /// The page as the answer's JSON for a client of protocol `version`: from version 2
    /// (``ProtocolVersion/sharedStamps``) a record's registers share its stamp, and its whole
    /// records are copied as stored; an older client gets every register stamped.
    package func answer(serverTime: UInt64, version: Int = ProtocolVersion.current) throws -> [UInt8] {
        let sharesStamps = version >= ProtocolVersion.sharedStamps
        return try CompactJSON.encode(
            PullResponse(
                changes: sharesStamps ? states : changes, removed: removed, conflicts: conflicts, cursor: cursor,
                more: more, serverTime: serverTime, remaining: remaining, signature: signature),
            encodedChanges: sharesStamps ? wholeRecords : [], style: sharesStamps ? .sharedStamps : .server)
    }
}
