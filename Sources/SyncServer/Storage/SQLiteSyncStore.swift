import Foundation
import GRDB
import HavenCore
import HavenTrust
import ServiceLifecycle

/// The default store: one SQLite file in WAL mode with `synchronous=FULL`, zero set-up.
///
/// GRDB's single writer serializes write transactions, so `seq` grows in commit order, and each
/// pull reads one snapshot. AUTOINCREMENT keeps the head in `sqlite_sequence`: deleting the
/// newest log entry never moves it back. `secure_delete` zeroes deleted content on disk, and
/// compaction empties the WAL, so the file keeps no copy of a purged record.
public struct SQLiteSyncStore: SyncStore {
    let database: any DatabaseWriter
    /// The random id of this database, in every cursor it issues.
    public let epoch: String
    package let commits = ChangeSignal()
    private let path: String
    /// Checkpoints the WAL on a connection of its own while ``run()`` runs.
    let checkpointer: WALCheckpointer

    /// Opens (creating or migrating) the store at `path`.
    public init(path: String) throws {
        try self.init(path: path, checkpointer: WALCheckpointer())
    }

    init(path: String, checkpointer: WALCheckpointer) throws {
        self.path = path
        self.checkpointer = checkpointer
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // 16 KiB pages for a new database (an existing one keeps its own): a quarter of the
            // write calls for the same rows, and no page left three quarters empty by a
            // 3 KiB record. A push of 10,500 records took an eighth less server CPU.
            try db.execute(sql: "PRAGMA page_size = 16384")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Deleted and overwritten content is zeroed on disk: purged testimony leaves no trace.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // Pages read through a map of the file rather than copied by pread: a sixth of the
            // server's CPU in a first sync of 10,000 records went to those copies.
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
            try checkpointer.install(on: db)
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets `synchronous = NORMAL` on the writer as it turns WAL on, after
        // `prepareDatabase`: FULL again, so that a commit survives a power cut, not only a crash.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Self.migrator.migrate(pool)
        self.database = pool
        self.epoch = try pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'")!
        }
    }

    /// Checkpoints the WAL in the background (``WALCheckpointer``) until the server's graceful
    /// shutdown (or cancellation), then closes the database.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [checkpointer, path] in await checkpointer.run(path: path) }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        try close()
    }

    // MARK: The change log's rows

    package func push<Output: Sendable>(
        _ keys: PushKeys, decide: @escaping @Sendable (PushRows) throws -> (LogWrites, Output)
    ) async throws -> Output {
        try await database.write { db in
            // Cached statements: prepared once per connection, not once per change.
            let logged = try db.cachedStatement(sql: "SELECT body FROM change_log WHERE author = ? AND change_id = ?")
            let purged = try db.cachedStatement(sql: "SELECT 1 FROM purged_records WHERE id = ?")
            let record = try db.cachedStatement(sql: "SELECT \(Self.recordColumns) FROM records WHERE id = ?")
            let replica = try db.cachedStatement(sql: "SELECT token_id FROM replicas WHERE id = ?")
            var rows = PushRows(head: try Self.head(db), publishedDigest: try Self.publishedDigest(db))
            for id in Set(keys.changeIDs) {
                if let body = try String.fetchOne(logged, arguments: [keys.author, id]) {
                    rows.loggedChanges[id] = try StoredJSON.decode(Change.self, from: body)
                }
            }
            for id in Set(keys.recordIDs) {
                if try Bool.fetchOne(purged, arguments: [id]) != nil { rows.purgedRecordIDs.insert(id) }
                rows.records[id] = try Row.fetchOne(record, arguments: [id]).map(Self.storedRecord)
            }
            for id in keys.replicaIDs {
                rows.replicaOwners[id] = try String.fetchOne(replica, arguments: [id])
            }
            rows.uploadedBlobs = try Self.uploadedBlobs(keys.blobIDs, by: keys.author, db)
            let (writes, output) = try decide(rows)
            try Self.write(writes, db)
            return output
        }
    }

    private static func write(_ writes: LogWrites, _ db: Database) throws {
        let append = try db.cachedStatement(
            sql: "INSERT INTO change_log (seq, change_id, record_id, author, body, received_at) VALUES (?, ?, ?, ?, ?, ?)")
        for entry in writes.entries {
            try append.execute(arguments: [
                entry.seq, entry.change.id, entry.change.record.id, entry.author, entry.body,
                entry.receivedAt,
            ])
        }
        let save = try db.cachedStatement(
            sql: """
                INSERT INTO records (id, kind, creator, state, last_seq, claimed_seq, first_public_seq, is_public, shared_wire)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET state = excluded.state, last_seq = excluded.last_seq,
                    first_public_seq = excluded.first_public_seq, is_public = excluded.is_public, wire = NULL,
                    shared_wire = excluded.shared_wire
                """)
        for (stored, form) in zip(writes.records, try StoredRecord.storedForms(of: writes.records)) {
            let record = stored.record
            try save.execute(arguments: [
                record.id, record.kind.rawValue, stored.creator, form.state, record.lastSeq,
                stored.claimedSeq, stored.firstPublicSeq, stored.isPublic, form.wire,
            ])
        }
        let bind = try db.cachedStatement(sql: "INSERT INTO replicas (id, token_id) VALUES (?, ?)")
        for (replica, token) in writes.replicaOwners {
            try bind.execute(arguments: [replica, token])
        }
        let conflict = try db.cachedStatement(sql: "INSERT INTO conflicts (seq, recipient, body) VALUES (?, ?, ?)")
        for (seq, found) in writes.conflicts {
            try conflict.execute(arguments: [seq, found.recipient, try StoredJSON.encode(found)])
        }
        if let digest = writes.publishedDigest {
            try db.execute(
                sql: "UPDATE meta SET value = ? WHERE key = ?", arguments: [digest.stored, PublishedSetDigest.metaKey])
        }
        try writeRecordMedia(writes.recordMedia, db)
    }

    package func pullRows(after position: Int64, limit: Int, recipient: String, readable: Readable?, whole: Bool)
        async throws -> PullRows
    {
        try await database.read { db in
            let head = try Self.head(db)
            // From scratch, a record's stored wire form stands for it: its state is read only
            // where there is none (a deleted record, or one not written since the column came).
            let records = try Row.fetchAll(
                db.cachedStatement(
                    sql: whole
                        ? """
                        SELECT id, last_seq, is_public, coalesce(shared_wire, wire) AS wire,
                            CASE WHEN shared_wire IS NULL AND wire IS NULL THEN state END AS state,
                            creator, claimed_seq, first_public_seq
                        FROM records WHERE last_seq > ? ORDER BY last_seq LIMIT ?
                        """
                        : "SELECT \(Self.recordColumns) FROM records WHERE last_seq > ? ORDER BY last_seq LIMIT ?"),
                arguments: [position, limit]
            ).map { row in
                if whole, let wire = row["wire"] as String? {
                    return PulledRecord.whole(
                        WholeRecord(id: row["id"], lastSeq: row["last_seq"], creator: row["creator"], isPublic: row["is_public"], wire: wire))
                }
                return .stored(try Self.storedRecord(row))
            }
            let count: Int?
            switch readable {
            case nil:
                count = nil
            case .all:
                count = try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT count(*) FROM records WHERE last_seq > ?"), arguments: [position]) ?? 0
            case .publicOnly:
                count = try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT count(*) FROM records WHERE last_seq > ? AND is_public = 1"),
                    arguments: [position]) ?? 0
            case .publicOrCreatedBy(let token):
                count = try Int.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT count(*) FROM records WHERE last_seq > ? AND (is_public = 1 OR creator = ?)"),
                    arguments: [position, token]) ?? 0
            }
            let conflicts = try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT seq, body FROM conflicts WHERE recipient = ? AND seq > ? AND seq <= ? ORDER BY id"),
                arguments: [recipient, position, head]
            ).map { row in (seq: row["seq"] as Int64, conflict: try StoredJSON.decode(Conflict.self, from: row["body"])) }
            let names =
                conflicts.isEmpty
                ? [:]
                : try Dictionary(
                    Row.fetchAll(db, sql: "SELECT id, name FROM tokens").map { ($0["id"] as String, $0["name"] as String) },
                    uniquingKeysWith: { first, _ in first })
            return PullRows(
                head: head, horizon: try Self.horizon(db), records: records, recordsAfterPosition: count,
                conflicts: conflicts, tokenNames: names, publishedDigest: try Self.publishedDigest(db),
                signingKey: try Self.currentSigningKey(db))
        }
    }

    package func compact(receivedBefore cutoff: UInt64, decide: @escaping @Sendable (CompactionRows) throws -> PurgeWrites)
        async throws -> (PurgeWrites, PurgeCounts)
    {
        let result = try await database.write { db in
            var rows = CompactionRows(horizon: try Self.horizon(db), oldEntries: [:], records: [:])
            let entries = try Row.fetchCursor(
                db, sql: "SELECT record_id, seq FROM change_log WHERE received_at < ?", arguments: [cutoff])
            while let row = try entries.next() { rows.oldEntries[row["record_id"], default: []].append(row["seq"]) }
            for id in rows.oldEntries.keys {
                rows.records[id] = try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [id])
                    .map { try StoredJSON.decode(TrackedRecord.self, from: $0) }
            }
            let purge = try decide(rows)
            return (purge, try Self.purge(purge, db))
        }
        // Old page images stay in the WAL until it is reset: empty it now. Best effort, waiting
        // at most two seconds for readers: a busy one only delays this to the next checkpoint.
        _ = try? await database.writeWithoutTransaction { db in
            let busyTimeout = try Int.fetchOne(db, sql: "PRAGMA busy_timeout") ?? 0
            try db.execute(sql: "PRAGMA busy_timeout = 2000")
            defer { try? db.execute(sql: "PRAGMA busy_timeout = \(busyTimeout)") }
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        return result
    }

    private static func purge(_ purge: PurgeWrites, _ db: Database) throws -> PurgeCounts {
        var counts = PurgeCounts()
        counts.blobs = try collectMedia(purge, db)
        for id in purge.purgedRecords {
            // A conflict is about the record its change was applied to, so the record's log
            // entries find every conflict that may quote its content.
            try db.execute(
                sql: "DELETE FROM conflicts WHERE seq IN (SELECT seq FROM change_log WHERE record_id = ?)", arguments: [id])
            counts.conflicts += db.changesCount
            try db.execute(sql: "DELETE FROM change_log WHERE record_id = ?", arguments: [id])
            counts.logEntries += db.changesCount
            try db.execute(sql: "DELETE FROM records WHERE id = ?", arguments: [id])
            try db.execute(sql: "INSERT OR IGNORE INTO purged_records (id) VALUES (?)", arguments: [id])
        }
        for seq in purge.supersededEntries {
            try db.execute(sql: "DELETE FROM change_log WHERE seq = ?", arguments: [seq])
            counts.logEntries += db.changesCount
        }
        try db.execute(
            sql: """
                DELETE FROM conflicts WHERE NOT EXISTS (
                    SELECT 1 FROM change_log WHERE change_log.seq = conflicts.seq AND change_log.received_at >= ?)
                """,
            arguments: [purge.conflictCutoff])
        counts.conflicts += db.changesCount
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES ('horizon', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            arguments: [String(purge.horizon)])
        if counts.logEntries > 0 {
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('compacted_before', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [String(purge.conflictCutoff)])
        }
        return counts
    }

    package func historyRows(of recordID: String) async throws -> HistoryRows {
        try await database.read { db in
            var rows = HistoryRows()
            rows.record = try Row.fetchOne(
                db, sql: "SELECT \(Self.recordColumns) FROM records WHERE id = ?", arguments: [recordID]
            ).map(Self.storedRecord)
            guard rows.record != nil else { return rows }
            rows.entries = try Row.fetchAll(
                db, sql: "SELECT seq, body, author, received_at FROM change_log WHERE record_id = ? ORDER BY seq",
                arguments: [recordID]
            ).map { row in
                LogEntry(
                    seq: row["seq"], change: try StoredJSON.decode(Change.self, from: row["body"]), body: row["body"],
                    author: row["author"],
                    receivedAt: UInt64(clamping: row["received_at"] as Int64))
            }
            rows.tokenNames = try Dictionary(
                Row.fetchAll(db, sql: "SELECT id, name FROM tokens").map { ($0["id"] as String, $0["name"] as String) },
                uniquingKeysWith: { first, _ in first })
            rows.compactedBefore = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'compacted_before'")
                .flatMap { UInt64($0) }
            return rows
        }
    }

    package func logSize() async throws -> Int {
        // A count walks the log's smallest index: fine once per scrape, not per request.
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change_log") ?? 0 }
    }

    package func checkHealth() async throws {
        // Reads a table, not just `SELECT 1`: the file must still be there and readable.
        _ = try await database.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'") }
    }

    /// Checkpoints the write-ahead log into the database file and closes every connection, so
    /// the file is complete on its own: no WAL content is left to recover. Reads and writes
    /// throw afterwards.
    ///
    /// - Throws: when a connection is still in use.
    public func close() throws {
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try database.close()
    }

    /// The highest `seq` ever given to a change, purged or not.
    private static func head(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'change_log'") ?? 0
    }

    private static func publishedDigest(_ db: Database) throws -> PublishedSetDigest {
        let text = try String.fetchOne(
            db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [PublishedSetDigest.metaKey])
        return try PublishedSetDigest(stored: text ?? "")
    }

    private static func horizon(_ db: Database) throws -> Int64 {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'horizon'").flatMap { Int64($0) } ?? 0
    }

    /// The columns ``storedRecord(_:)`` reads.
    static let recordColumns = "state, creator, claimed_seq, first_public_seq"

    static func storedRecord(_ row: Row) throws -> StoredRecord {
        StoredRecord(
            record: try StoredJSON.decode(TrackedRecord.self, from: row["state"]), creator: row["creator"],
            claimedSeq: row["claimed_seq"], firstPublicSeq: row["first_public_seq"])
    }
}
