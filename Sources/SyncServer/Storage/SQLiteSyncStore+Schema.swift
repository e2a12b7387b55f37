import GRDB

/// The SQLite schema and its migrations. `SchemaParityTests` checks it against the PostgreSQL
/// schema (`PostgresSyncStore+Schema.swift`): the same tables, columns and indexes.
extension SQLiteSyncStore {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE tokens (
                        id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash BLOB NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER);
                    -- The append-only log: rows are inserted, and deleted only by compaction.
                    -- AUTOINCREMENT keeps the head in sqlite_sequence, where it never moves back.
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
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    -- Ids of purged records, nothing else: changes to them are refused.
                    CREATE TABLE purged_records (id TEXT PRIMARY KEY) WITHOUT ROWID;
                    CREATE INDEX change_log_by_record ON change_log (record_id);
                    """)
        }
        migrator.registerMigration("v3") { db in
            // Compaction looks up old entries by age, as on PostgreSQL.
            try db.execute(sql: "CREATE INDEX change_log_by_received_at ON change_log (received_at)")
        }
        return migrator
    }
}
