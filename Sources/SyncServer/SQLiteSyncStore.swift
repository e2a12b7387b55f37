import Foundation
import GRDB
import HavenCore

/// The default store: one SQLite file in WAL mode with `synchronous=FULL`, zero set-up.
///
/// GRDB's single writer serializes pushes, so `seq` (SQLite's AUTOINCREMENT rowid) grows in
/// commit order, and each pull reads one snapshot.
public struct SQLiteSyncStore: SyncStore {
    let database: any DatabaseWriter
    public let epoch: String

    /// Opens (creating or migrating) the store at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Deleted and overwritten content is zeroed on disk: purged testimony leaves no trace.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
        self.database = pool
        self.epoch = try pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'")!
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE tokens (
                        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash BLOB NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER);
                    -- The append-only log: rows are inserted, never updated.
                    CREATE TABLE change_log (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, change_id TEXT NOT NULL UNIQUE,
                        record_id TEXT NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL,
                        received_at INTEGER NOT NULL);
                    -- The merged state: one row per record, registers with their seq and author.
                    CREATE TABLE records (
                        id TEXT PRIMARY KEY, kind TEXT NOT NULL, creator TEXT NOT NULL, state TEXT NOT NULL,
                        last_seq INTEGER NOT NULL);
                    CREATE INDEX records_by_last_seq ON records (last_seq);
                    CREATE TABLE conflicts (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, recipient TEXT NOT NULL,
                        body TEXT NOT NULL);
                    CREATE INDEX conflicts_by_recipient ON conflicts (recipient, seq);
                    """)
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('epoch', ?)", arguments: [TokenSecret.generateID()])
        }
        migrator.registerMigration("v2") { db in try createCompactionTables(db) }
        return migrator
    }

    public func push(_ changes: [Change], by caller: Caller, now: UInt64, maxDrift: UInt64) async throws
        -> [PushResult]
    {
        let admission = ChangeAdmission(caller: caller, now: now, maxDrift: maxDrift)
        let epoch = self.epoch
        return try await database.write { db in
            try changes.map { change in
                try Self.push(change, admission: admission, epoch: epoch, now: now, db: db)
            }
        }
    }

    private static func push(_ change: Change, admission: ChangeAdmission, epoch: String, now: UInt64, db: Database)
        throws -> PushResult
    {
        // Cached statements: prepared once per connection, not once per change.
        let isDuplicate =
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM change_log WHERE change_id = ?"), arguments: [change.id]) != nil
        let isPurged =
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM purged_records WHERE id = ?"), arguments: [change.record.id])
            != nil
        let existing = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT state, creator FROM records WHERE id = ?"), arguments: [change.record.id]
        ).map { row in (record: try StoredJSON.decode(TrackedRecord.self, from: row["state"]), creator: row["creator"] as String) }
        if let answer = ChangeApplication.answerWithoutApplying(
            change, admission: admission, isDuplicate: isDuplicate, isPurged: isPurged, existing: existing)
        {
            return answer
        }
        let author = admission.caller.tokenID
        try db.cachedStatement(
            sql: "INSERT INTO change_log (change_id, record_id, author, body, received_at) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [change.id, change.record.id, author, try StoredJSON.encode(change), now])
        let seq = db.lastInsertedRowID
        let (record, conflicts) = ChangeApplication.merge(
            change, into: existing?.record, seq: seq, author: author, epoch: epoch)
        try db.cachedStatement(
            sql: """
                INSERT INTO records (id, kind, creator, state, last_seq) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET state = excluded.state, last_seq = excluded.last_seq
                """
        ).execute(
            arguments: [
                record.id, record.kind.rawValue, existing?.creator ?? author, try StoredJSON.encode(record), record.lastSeq,
            ])
        for conflict in conflicts {
            try db.execute(
                sql: "INSERT INTO conflicts (seq, recipient, body) VALUES (?, ?, ?)",
                arguments: [seq, conflict.recipient, try StoredJSON.encode(conflict)])
        }
        return PushResult(id: change.id, status: .applied)
    }

    public func pull(since: Int64, after position: Int64?, limit: Int, maxBytes: Int, for caller: Caller)
        async throws -> PullPage
    {
        let position = position ?? since
        let epoch = self.epoch
        return try await database.read { db in
            try Self.checkHorizon(since: since, db)
            let head = try Self.head(db)
            let rows = try Row.fetchCursor(
                db, sql: "SELECT state, creator FROM records WHERE last_seq > ? ORDER BY last_seq LIMIT ?",
                arguments: [position, limit + 1])
            var page = PullPageBuilder(since: since, caller: caller, maxBytes: maxBytes, limit: limit)
            while let row = try rows.next() {
                let record = try StoredJSON.decode(TrackedRecord.self, from: row["state"])
                guard page.add(record, creator: row["creator"]) else { break }
            }
            // A full page continues from its last record with the same base; the last page
            // brings the caller to the head of the log.
            let cursor = page.more ? page.lastSeq : head
            let conflictBodies = try String.fetchAll(
                db, sql: "SELECT body FROM conflicts WHERE recipient = ? AND seq > ? AND seq <= ? ORDER BY id",
                arguments: [caller.tokenID, position, cursor])
            let names = try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, name FROM tokens").map {
                    ($0["id"] as String, $0["name"] as String)
                })
            let conflicts = ChangeApplication.namingWinners(
                try conflictBodies.map { try StoredJSON.decode(Conflict.self, from: $0) }, names: names)
            let remaining = try page.more
                ? Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE last_seq > ?", arguments: [cursor]) : nil
            return PullPage(
                changes: page.changes, removed: page.removed, conflicts: conflicts,
                cursor: page.more ? SyncCursor(epoch: epoch, seq: since, position: cursor) : SyncCursor(epoch: epoch, seq: cursor),
                more: page.more, remaining: remaining)
        }
    }

    public func caller(forTokenHash hash: Data, now: UInt64) async throws -> Caller? {
        try await database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE hash = ?", arguments: [hash]) else {
                return nil
            }
            let token = try Self.token(from: row)
            return token.isValid(at: now) ? Caller(tokenID: token.id, name: token.name, role: token.role) : nil
        }
    }

    public func addToken(_ token: TokenInfo, hash: Data) async throws {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO tokens (id, name, role, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [token.id, token.name, token.role.rawValue, hash, token.createdAt, token.expiresAt])
        }
    }

    public func tokens() async throws -> [TokenInfo] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens ORDER BY created_at DESC, id").map(Self.token(from:))
        }
    }

    public func revokeToken(_ idOrName: String, now: UInt64) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = ? WHERE (id = ? OR name = ?) AND revoked_at IS NULL",
                arguments: [now, idOrName, idOrName])
            return db.changesCount > 0
        }
    }

    public func logSize() async throws -> Int {
        // A count walks the log's smallest index: fine once per scrape, not per request.
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change_log") ?? 0 }
    }

    public func checkHealth() async throws {
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

    private static func token(from row: Row) throws -> TokenInfo {
        guard let role = Role(rawValue: row["role"]) else {
            throw DatabaseError(message: "token \(row["id"] as String) has an unknown role")
        }
        return TokenInfo(
            id: row["id"], name: row["name"], role: role, createdAt: row["created_at"], expiresAt: row["expires_at"],
            revokedAt: row["revoked_at"])
    }
}
