import Foundation
import GRDB
import HavenCore
import HavenTrust

/// The replica's side of sync: reading the outbox, recording the server's answers, applying
/// pulled pages. Each step is one transaction, so a sync killed anywhere resumes cleanly.
extension Replica {
    /// Up to `limit` unsent changes, oldest first.
    public func pendingChanges(limit: Int) throws -> [Change] {
        try database.read { db in
            try String.fetchAll(
                db, sql: "SELECT body FROM outbox WHERE status = 'pending' ORDER BY seq LIMIT ?", arguments: [limit]
            ).map { try Self.decode(Change.self, $0) }
        }
    }

    /// Records the server's answers to a push: sent changes leave the outbox, refused ones stay
    /// in it, marked with the reason. A change refused as `record_purged` is for a record the
    /// server deleted and purged: it goes, with the local record and every other unsent change
    /// to it, since the record can never come back.
    ///
    /// - Returns: how many unsent changes were dropped because their record was purged.
    @discardableResult
    package func acknowledge(_ response: PushResponse) throws -> Int {
        try database.write { db in
            var dropped = 0
            // Prepared once for the batch, not once a change.
            let find = try db.cachedStatement(sql: "SELECT record_id FROM outbox WHERE change_id = ?")
            // The body of a change whose record has other changes queued: only those are merged below.
            let bodyIfOthers = try db.cachedStatement(
                sql: """
                    SELECT body FROM outbox WHERE change_id = ? AND EXISTS (
                        SELECT 1 FROM outbox AS other WHERE other.record_id = outbox.record_id AND other.seq != outbox.seq)
                    """)
            let delete = try db.cachedStatement(sql: "DELETE FROM outbox WHERE change_id = ?")
            var answered: [String] = []
            var delivered: [(recordID: String, body: String)] = []
            for result in response.results {
                guard let recordID = try String.fetchOne(find, arguments: [result.id]) else { continue }
                answered.append(recordID)
                switch result.status {
                case .applied, .duplicate:
                    if let body = try String.fetchOne(bodyIfOthers, arguments: [result.id]) { delivered.append((recordID, body)) }
                    try delete.execute(arguments: [result.id])
                case .rejected where result.error?.code == .recordPurged:
                    try db.execute(sql: "DELETE FROM outbox WHERE record_id = ?", arguments: [recordID])
                    dropped += db.changesCount
                    try db.execute(sql: "DELETE FROM records WHERE id = ?", arguments: [recordID])
                case .rejected:
                    try db.execute(
                        sql: "UPDATE outbox SET status = 'rejected', error = ? WHERE change_id = ?",
                        arguments: [Self.rejectionText(result.error), result.id])
                }
            }
            // What the server took merges into the kept state of records that still have changes
            // in the outbox; the kept states of the others are dropped next (Replica+Discard.swift).
            let unsettled = try db.cachedStatement(sql: "SELECT 1 FROM outbox WHERE record_id = ? LIMIT 1")
            for (recordID, body) in delivered where try Bool.fetchOne(unsettled, arguments: [recordID]) != nil {
                try mergeIntoServerState(db, try Self.decode(Change.self, body).record)
            }
            try dropSettledServerStates(db)
            // A record whose kept server state went now has its row as the server's values.
            try Self.refreshPublished(db, ids: answered)
            try recordServerTime(db, response.serverTime)
            return dropped
        }
    }

    /// What applying a page did with its `removed` ids.
    public struct AppliedPage: Sendable, Equatable {
        /// Records dropped because the token may no longer see them.
        public var removed = 0
        /// Records the token may no longer see, kept because they have unsent or rejected
        /// changes: the person's edits are never dropped without a word (HavenCore's article
        /// *Conflicts*).
        public var kept: [String] = []
    }

    /// Merges one pulled page and stores its cursor, in one transaction.
    ///
    /// A record listed in `removed` is dropped, unless it has changes in the outbox not yet
    /// accepted by the server (pending or rejected): then it stays, with them, so that the person
    /// can still see and edit what they typed, and it is listed in ``AppliedPage/kept``. Its
    /// changes are sent as usual; the server applies them or says why not.
    @discardableResult
    package func apply(_ page: PullResponse) throws -> AppliedPage {
        try apply([PulledPage(page)])
    }

    /// Merges pulled pages in order, each as `apply(_:)` would, in one
    /// transaction: what a streamed pull has received whole while the last commit was under way.
    @discardableResult
    package func apply(_ pages: [PulledPage]) throws -> AppliedPage {
        try database.write { db in try apply(db, pages) }
    }

    /// As ``apply(_:)-([PulledPage])``, waiting instead of holding the calling thread: a stream's
    /// commits leave Swift's concurrency pool free to read the link (ServerAPI+Stream.swift).
    package func applyWaiting(_ pages: [PulledPage]) async throws -> AppliedPage {
        try await database.writeWaiting { db in try apply(db, pages) }
    }

    private func apply(_ db: Database, _ pages: [PulledPage]) throws -> AppliedPage {
        var run = try PullRun(db)
        for page in pages { try apply(db, page, &run) }
        try run.save(db)
        return run.applied
    }

    /// What a transaction of pulled pages reads once and stores once, however many pages it
    /// holds: read and written page by page, the replica's settings and digest were a sixth of
    /// a first sync's time.
    private struct PullRun {
        var settings: ReplicaSettings
        var digest: PublishedSetDigest
        let digestBefore: PublishedSetDigest
        let verified: VerifiedRows
        /// Whether some record has unsent changes, and so a kept server state (Replica+Discard.swift).
        /// No page adds one.
        let keepsServerStates: Bool
        var applied = AppliedPage()

        init(_ db: Database) throws {
            settings = try ReplicaSettings.load(db)
            digest = try Replica.publishedDigest(db)
            digestBefore = digest
            verified = try VerifiedRows(db)
            keepsServerStates = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM server_states)") ?? false
        }

        func save(_ db: Database) throws {
            try ReplicaSettings.set(db, .cursor, settings.cursor?.description)
            try ReplicaSettings.set(db, .clock, settings.clock?.description)
            try ReplicaSettings.set(db, .serverOffset, String(settings.serverOffset))
            if digest != digestBefore { try Replica.setPublishedDigest(db, digest) }
        }
    }

    private func apply(_ db: Database, _ pulled: PulledPage, _ run: inout PullRun) throws {
        let page = pulled.response
        // A download of everything: build the search index once at the end instead of row by row.
        if run.settings.cursor == nil, !page.changes.isEmpty { try Self.deferSearchIndex(db) }
        // Read time as the server does before taking in its stamps: a slow device would
        // otherwise refuse them as too far ahead, and its next edits would order before them.
        run.settings.serverOffset = serverOffset(page.serverTime)
        var clock = clock(run.settings)
        // A download from scratch has no cursor, or (past its first page) one whose base is 0.
        let redownload = (run.settings.cursor?.seq ?? 0) == 0
        // The elements of what this page stored, which with no kept server state are the
        // server's values (the published set's rule 1): handed to the digest, not read back.
        var seeds: [String: [UInt8]?] = [:]
        let read = try db.cachedStatement(sql: "SELECT state FROM records WHERE id = ?")
        for (delta, new) in zip(page.changes, pulled.newRecords) {
            let stored: StoredRecord
            if try storeIfNew(db, new) {
                // New here: the record is its delta, as prepared for storing (PulledPage).
                try run.verified.keep(db, id: delta.id, row: nil)
                stored = new
            } else {
                let row = try String.fetchOne(read, arguments: [delta.id])
                try run.verified.keep(db, id: delta.id, row: row)
                var record = try row.map { try Self.decode(RecordState.self, $0) }
                if let record, record.kind != delta.kind { continue }  // The server refuses such changes; never merge them.
                // A record altered here is replaced whole by the server's state, not merged with it.
                if try run.verified.replaces(db, id: delta.id, redownload: redownload) { record = nil }
                if var record {
                    record.merge(delta)
                    stored = try StoredRecord(record)
                } else {
                    stored = new
                }
                try store(db, stored)
            }
            if !run.keepsServerStates { seeds[delta.id] = stored.seed }
            if run.keepsServerStates { try mergeIntoServerState(db, delta) }
            // Later local edits must order after what this replica has now seen.
            if let latest = delta.latestStamp { clock.witness(latest) }
        }
        for id in page.removed {
            let unsent =
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (
                            SELECT 1 FROM outbox WHERE record_id = ? AND status IN ('pending', 'rejected'))
                        """,
                    arguments: [id]) ?? false
            if unsent {
                run.applied.kept.append(id)
            } else {
                try run.verified.keep(
                    db, id: id, row: try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [id]))
                try db.execute(sql: "DELETE FROM records WHERE id = ?", arguments: [id])
                // Gone, even if this page also brought it: its element goes with it.
                seeds.removeValue(forKey: id)
                run.applied.removed += 1
            }
        }
        let now = wallClock()
        for conflict in page.conflicts {
            try db.execute(
                sql: "INSERT INTO conflicts (record_id, body, received_at) VALUES (?, ?, ?)",
                arguments: [conflict.recordID, try Self.json(conflict), now])
        }
        try Self.refreshElements(db, ids: page.changes.map(\.id) + page.removed, known: seeds, digest: &run.digest)
        run.settings.cursor = page.cursor
        run.settings.clock = clock.last
    }

    /// Marks the end of a complete sync.
    package func recordSyncFinished() throws {
        try database.write { db in try ReplicaSettings.set(db, .lastSync, String(wallClock())) }
    }

    /// Forgets the cursor so that the next pull downloads everything again, after
    /// `410 cursor_expired`, keeping every unsent change.
    ///
    /// Records without an unsent or rejected change are dropped in the same transaction: the
    /// download brings back every one that still exists, and one the server deleted and purged
    /// (whose delete this replica never saw) must not survive here. Records with unsent changes
    /// stay until those are pushed; if the server then refuses them as `record_purged`,
    /// `acknowledge(_:)` drops them too.
    ///
    /// - Returns: how many records were dropped.
    @discardableResult
    package func forgetCursor() throws -> Int {
        try database.write { db in try forgetCursor(db) }
    }

    @discardableResult
    func forgetCursor(_ db: Database) throws -> Int {
        try ReplicaSettings.set(db, .cursor, nil)
        try db.execute(
            sql: """
                DELETE FROM records WHERE id NOT IN (
                    SELECT record_id FROM outbox WHERE status IN ('pending', 'rejected'))
                """)
        let dropped = db.changesCount
        try Self.resumPublished(db)
        return dropped
    }

    private func recordServerTime(_ db: Database, _ serverTime: UInt64) throws {
        try ReplicaSettings.set(db, .serverOffset, String(serverOffset(serverTime)))
    }

    /// Milliseconds the server's clock is ahead of this device's (negative when behind). The
    /// server's word is held to the range a stamp can carry, so that no answer can overflow it.
    private func serverOffset(_ serverTime: UInt64) -> Int64 {
        Int64(min(serverTime, Timestamp.maxPhysical)) - Int64(min(wallClock(), Timestamp.maxPhysical))
    }
}
