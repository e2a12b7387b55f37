import Foundation
import GRDB
import HavenCore

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
            let find = try db.cachedStatement(sql: "SELECT record_id, body FROM outbox WHERE change_id = ?")
            let delete = try db.cachedStatement(sql: "DELETE FROM outbox WHERE change_id = ?")
            var answered: [String] = []
            var delivered: [(recordID: String, body: String)] = []
            for result in response.results {
                guard let row = try Row.fetchOne(find, arguments: [result.id]) else { continue }
                let recordID: String = row["record_id"]
                answered.append(recordID)
                switch result.status {
                case .applied, .duplicate:
                    delivered.append((recordID, row["body"]))
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
        try apply([page])
    }

    /// Merges pulled pages in order, each as `apply(_:)` would, in one
    /// transaction: what a streamed pull has received whole while the last commit was under way.
    @discardableResult
    package func apply(_ pages: [PullResponse]) throws -> AppliedPage {
        try database.write { db in
            var applied = AppliedPage()
            for page in pages {
                let one = try apply(db, page)
                applied.removed += one.removed
                applied.kept += one.kept
            }
            return applied
        }
    }

    private func apply(_ db: Database, _ page: PullResponse) throws -> AppliedPage {
        var settings = try ReplicaSettings.load(db)
        // A download of everything: build the search index once at the end instead of row by row.
        if settings.cursor == nil, !page.changes.isEmpty { try Self.deferSearchIndex(db) }
        // Read time as the server does before taking in its stamps: a slow device would
        // otherwise refuse them as too far ahead, and its next edits would order before them.
        settings.serverOffset = serverOffset(page.serverTime)
        var clock = clock(settings)
        // Most pages touch no record with unsent changes: then no lookup per record.
        let keepsServerStates = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM server_states)") ?? false
        // A download from scratch has no cursor, or (past its first page) one whose base is 0.
        let verified = try VerifiedRows(db, redownload: (settings.cursor?.seq ?? 0) == 0)
        // What this page stored is, with no kept server state, the server's values (the
        // published set's rule 1): handed to the digest rather than read back.
        var stored: [String: RecordState] = [:]
        let read = try db.cachedStatement(sql: "SELECT state FROM records WHERE id = ?")
        for delta in page.changes {
            let row = try String.fetchOne(read, arguments: [delta.id])
            try verified.keep(db, id: delta.id, row: row)
            var record = try row.map { try Self.decode(RecordState.self, $0) } ?? RecordState(id: delta.id, kind: delta.kind)
            guard record.kind == delta.kind else { continue }  // The server refuses such changes; never merge them.
            // A record altered here is replaced whole by the server's state, not merged with it.
            if try verified.replaces(db, id: delta.id) { record = RecordState(id: delta.id, kind: delta.kind) }
            record.merge(delta)
            let saved = try save(db, record)
            if !keepsServerStates { stored[saved.id] = saved }
            if keepsServerStates { try mergeIntoServerState(db, delta) }
            // Later local edits must order after what this replica has now seen.
            if let latest = delta.latestStamp { clock.witness(latest) }
        }
        var applied = AppliedPage()
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
                applied.kept.append(id)
            } else {
                try verified.keep(
                    db, id: id, row: try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [id]))
                try db.execute(sql: "DELETE FROM records WHERE id = ?", arguments: [id])
                applied.removed += 1
            }
        }
        let now = wallClock()
        for conflict in page.conflicts {
            try db.execute(
                sql: "INSERT INTO conflicts (record_id, body, received_at) VALUES (?, ?, ?)",
                arguments: [conflict.recordID, try Self.json(conflict), now])
        }
        try Self.refreshPublished(db, ids: page.changes.map(\.id) + page.removed, known: stored)
        settings.cursor = page.cursor
        try ReplicaSettings.set(db, .cursor, page.cursor.description)
        try ReplicaSettings.set(db, .clock, clock.last.description)
        try recordServerTime(db, page.serverTime)
        return applied
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
