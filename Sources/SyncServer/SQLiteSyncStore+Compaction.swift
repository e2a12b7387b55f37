import Foundation
import GRDB
import HavenCore

/// Compaction of the SQLite store (DESIGN §4): what the retention window no longer needs goes,
/// in one write transaction.
///
/// Rule 1. A tombstone whose delete was received before the window is purged whole: its row in
/// `records`, every log entry and every conflict about it, whatever their age. Only its id stays,
/// in `purged_records`, so that any later change to it is rejected as `record_purged` and the
/// delete never comes back.
///
/// Rule 2. A log entry received before the window goes when no register of the merged state
/// refers to its `seq`. Pulls read only the merged state, so no page changes when the log
/// shrinks; only repeated pushes of such old changes are no longer recognised as duplicates.
///
/// Rule 3. A conflict goes when the change that caused it was received before the window.
///
/// Rule 4. The horizon is the highest `last_seq` of any purged record. A cursor below it may not
/// have seen a purged delete, so a pull from it throws ``CursorExpired``.
///
/// Rule 5. The head, the highest `seq` ever given, is read from `sqlite_sequence`, which
/// AUTOINCREMENT keeps: purging the newest entry never moves the head back, so a current cursor
/// never looks ahead of the log.
///
/// Deleted content is overwritten on disk (`secure_delete`), and the write-ahead log is emptied
/// after each compaction, so the file keeps no copy of a purged record.
extension SQLiteSyncStore {
    /// The tables compaction needs: migration "v2".
    static func createCompactionTables(_ db: Database) throws {
        try db.execute(
            sql: """
                -- Ids of purged records, nothing else: changes to them are refused.
                CREATE TABLE purged_records (id TEXT PRIMARY KEY) WITHOUT ROWID;
                CREATE INDEX change_log_by_record ON change_log (record_id);
                """)
    }

    public func compact(retention: UInt64, now: UInt64) async throws -> CompactionSummary {
        let cutoff = now > retention ? now - retention : 0
        let summary = try await database.write { db in try Self.compact(receivedBefore: cutoff, db) }
        // Old page images stay in the WAL until it is reset: empty it now. Best effort, waiting
        // at most two seconds for readers: a busy one only delays this to the next checkpoint.
        _ = try? await database.writeWithoutTransaction { db in
            let busyTimeout = try Int.fetchOne(db, sql: "PRAGMA busy_timeout") ?? 0
            try db.execute(sql: "PRAGMA busy_timeout = 2000")
            defer { try? db.execute(sql: "PRAGMA busy_timeout = \(busyTimeout)") }
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        return summary
    }

    private static func compact(receivedBefore cutoff: UInt64, _ db: Database) throws -> CompactionSummary {
        var summary = CompactionSummary()
        let horizon = try storedHorizon(db)
        var oldEntries: [String: [Int64]] = [:]
        let rows = try Row.fetchCursor(
            db, sql: "SELECT record_id, seq FROM change_log WHERE received_at < ?", arguments: [cutoff])
        while let row = try rows.next() { oldEntries[row["record_id"], default: []].append(row["seq"]) }

        let plan = try CompactionPlan(oldEntries: oldEntries, horizon: horizon) { recordID in
            try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [recordID])
                .map { try StoredJSON.decode(TrackedRecord.self, from: $0) }
        }
        for id in plan.purgedRecords {
            // A conflict is about the record its change was applied to, so the record's log
            // entries find every conflict that may quote its content.
            try db.execute(
                sql: "DELETE FROM conflicts WHERE seq IN (SELECT seq FROM change_log WHERE record_id = ?)",
                arguments: [id])
            summary.conflicts += db.changesCount
            try db.execute(sql: "DELETE FROM change_log WHERE record_id = ?", arguments: [id])
            summary.logEntries += db.changesCount
            try db.execute(sql: "DELETE FROM records WHERE id = ?", arguments: [id])
            try db.execute(sql: "INSERT OR IGNORE INTO purged_records (id) VALUES (?)", arguments: [id])
        }
        summary.purgedRecords = plan.purgedRecords.count
        for seq in plan.supersededEntries {
            try db.execute(sql: "DELETE FROM change_log WHERE seq = ?", arguments: [seq])
            summary.logEntries += db.changesCount
        }
        try db.execute(
            sql: """
                DELETE FROM conflicts WHERE NOT EXISTS (
                    SELECT 1 FROM change_log WHERE change_log.seq = conflicts.seq AND change_log.received_at >= ?)
                """,
            arguments: [cutoff])
        summary.conflicts += db.changesCount
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES ('horizon', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [String(plan.horizon)])
        summary.horizon = plan.horizon
        return summary
    }

    /// The highest `seq` ever given to a change, purged or not: where a pull that finds nothing
    /// new leaves its caller.
    static func head(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'") ?? 0
    }

    /// Throws ``CursorExpired`` when a pull from `since` may have missed a purged delete.
    static func checkHorizon(since: Int64, _ db: Database) throws {
        guard since > 0 else { return }
        let horizon = try storedHorizon(db)
        if since < horizon { throw CursorExpired(since: since, horizon: horizon) }
    }

    private static func storedHorizon(_ db: Database) throws -> Int64 {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'horizon'").flatMap { Int64($0) } ?? 0
    }
}
