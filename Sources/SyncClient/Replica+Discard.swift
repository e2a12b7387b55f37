import Foundation
import GRDB
import HavenCore

/// The server's state of each record that has unsent or rejected changes, kept beside it, so
/// that `haven discard` can put the record back as the server has it, and `haven export` can
/// leave rejected values out.
///
/// Rule 1. When a record without unsent or rejected changes is first written here, its state
/// (all of it from the server) is kept in `server_states`; a record created here is kept as
/// NULL: the server never had it.
///
/// Rule 2. While kept, it follows the server: pulled registers merge into it, and so do this
/// replica's changes the server acknowledges (applied or duplicate). Merge is the server's own
/// (DESIGN §3), so it stays what the server holds, as far as this replica has seen.
///
/// Rule 3. It is dropped once its record has no change left in the outbox.
extension Replica {
    static func createServerStates(_ db: Database) throws {
        try db.execute(sql: "CREATE TABLE server_states (id TEXT PRIMARY KEY, state TEXT)")
    }

    /// Keeps `record` as the server's state before its first local write (rule 1); a record
    /// that already has changes in the outbox keeps what was kept then.
    func keepServerState(_ db: Database, of record: RecordState, isNew: Bool) throws {
        // Cached: an import runs it once a record.
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO server_states (id, state)
                SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM outbox WHERE record_id = ?)
                """
        ).execute(arguments: [record.id, isNew ? nil : try Self.json(record), record.id])
    }

    /// Merges `registers`, which the server now holds, into the kept state of their record (rule 2).
    func mergeIntoServerState(_ db: Database, _ registers: RecordState) throws {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT state FROM server_states WHERE id = ?", arguments: [registers.id])
        else { return }
        var state = try (row["state"] as String?).map { try Self.decode(RecordState.self, $0) }
            ?? RecordState(id: registers.id, kind: registers.kind)
        state.merge(registers)
        try db.execute(
            sql: "UPDATE server_states SET state = ? WHERE id = ?", arguments: [try Self.json(state), registers.id])
    }

    /// Drops the kept states of records without changes in the outbox (rule 3).
    func dropSettledServerStates(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM server_states WHERE id NOT IN (SELECT record_id FROM outbox)")
    }

    /// What ``discard(_:)`` did.
    public struct Discarded: Sendable, Equatable {
        /// The record whose changes were dropped.
        public var recordID: String
        /// The record's kind.
        public var kind: RecordKind
        /// Unsent and rejected changes dropped.
        public var changes: Int
        /// How the record was left.
        public var outcome: Outcome

        /// What became of a record whose changes were discarded.
        public enum Outcome: Sendable, Equatable {
            /// Put back as the server has it.
            case restored
            /// Removed: the server never had it.
            case removed
            /// Removed until the next sync downloads everything again: a replica made before
            /// this version kept no server state for it.
            case redownloading
        }
    }

    /// The unsent and rejected changes `haven discard` would drop for the record `id` (or its
    /// first characters): how many, and which record.
    public func pendingChanges(of id: String) throws -> (record: RecordState, changes: Int) {
        try database.read { db in
            let record = try loadRecord(db, matching: id, kind: nil)
            return (record, try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM outbox WHERE record_id = ?", arguments: [record.id]) ?? 0)
        }
    }

    /// Drops every unsent and rejected change of the record `id` and puts the record back as the
    /// server last sent it, in one transaction.
    ///
    /// - Throws: ``ClientError`` when the record has no such change.
    public func discard(_ id: String) throws -> Discarded {
        try database.write { db in
            let record = try loadRecord(db, matching: id, kind: nil)
            try db.execute(sql: "DELETE FROM outbox WHERE record_id = ?", arguments: [record.id])
            let changes = db.changesCount
            guard changes > 0 else {
                throw ClientError(
                    Words(
                        "\(record.kind) \(record.id) has no unsent or rejected change: it is as the server has it already",
                        korean: "\(record.kind) \(record.id)에는 보내지 않았거나 거부된 변경이 없습니다: 이미 서버에 있는 "
                            + "그대로입니다"))
            }
            let kept = try Row.fetchOne(db, sql: "SELECT state FROM server_states WHERE id = ?", arguments: [record.id])
            var outcome = Discarded.Outcome.removed
            if let state = try (kept?["state"] as String?).map({ try Self.decode(RecordState.self, $0) }) {
                try save(db, state)
                outcome = .restored
            } else {
                try db.execute(sql: "DELETE FROM records WHERE id = ?", arguments: [record.id])
                if kept == nil {
                    try forgetCursor(db)
                    outcome = .redownloading
                }
            }
            try dropSettledServerStates(db)
            return Discarded(recordID: record.id, kind: record.kind, changes: changes, outcome: outcome)
        }
    }

    /// `record` without the values of its rejected changes, as the server has them instead; nil
    /// when the server never had the record (its creation was refused).
    func withoutRejected(_ db: Database, _ record: RecordState) throws -> RecordState? {
        let bodies = try String.fetchAll(
            db, sql: "SELECT body FROM outbox WHERE record_id = ? AND status = 'rejected'", arguments: [record.id])
        guard !bodies.isEmpty else { return record }
        let kept = try Row.fetchOne(db, sql: "SELECT state FROM server_states WHERE id = ?", arguments: [record.id])
        let server = try (kept?["state"] as String?).map { try Self.decode(RecordState.self, $0) }
        if kept != nil, server == nil { return nil }
        var record = record
        for body in bodies {
            let change = try Self.decode(Change.self, body)
            for (name, register) in change.record.fields where record.fields[name] == register {
                record.fields[name] = server?.fields[name]
            }
            if let deleted = change.record.deleted, record.deleted == deleted { record.deleted = server?.deleted }
        }
        return record
    }
}
