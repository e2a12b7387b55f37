import GRDB
import HavenTrust

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
        migrator.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    -- Change ids are unique per author, not in the whole log: one account cannot
                    -- take another's ids. The table is rebuilt to drop its UNIQUE (change_id),
                    -- keeping its head in sqlite_sequence.
                    CREATE TABLE change_log_v4 (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, change_id TEXT NOT NULL, record_id TEXT NOT NULL,
                        author TEXT NOT NULL, body TEXT NOT NULL, received_at INTEGER NOT NULL);
                    INSERT INTO change_log_v4 SELECT seq, change_id, record_id, author, body, received_at FROM change_log;
                    DELETE FROM sqlite_sequence WHERE name = 'change_log_v4';
                    INSERT INTO sqlite_sequence (name, seq) SELECT 'change_log_v4', seq FROM sqlite_sequence
                        WHERE name = 'change_log';
                    DROP TABLE change_log;
                    ALTER TABLE change_log_v4 RENAME TO change_log;
                    CREATE UNIQUE INDEX change_log_by_author_change ON change_log (author, change_id);
                    CREATE INDEX change_log_by_record ON change_log (record_id);
                    CREATE INDEX change_log_by_received_at ON change_log (received_at);
                    -- When field staff claimed a record by creating it, and whether it is or ever
                    -- was public: ownership cannot be claimed in advance, and only once-public ids
                    -- are ever named as removed. Older records count, when public now, as public from 0.
                    ALTER TABLE records ADD COLUMN claimed_seq INTEGER;
                    ALTER TABLE records ADD COLUMN first_public_seq INTEGER;
                    ALTER TABLE records ADD COLUMN is_public INTEGER NOT NULL DEFAULT 0;
                    UPDATE records SET is_public = 1, first_public_seq = 0
                        WHERE json_extract(state, '$.fields.status.register.value') = 'published'
                        AND NOT (kind = 'story'
                            AND json_extract(state, '$.fields.sensitivity.register.value') IS 'restricted');
                    -- The account each replica id writes for: stamps are bound to it.
                    CREATE TABLE replicas (id TEXT PRIMARY KEY, token_id TEXT NOT NULL) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v5") { db in
            try db.execute(
                sql: """
                    -- When each token last authenticated, written at most once a minute.
                    ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
                    -- Names of unrevoked tokens are unique (checked on creation; older databases
                    -- may hold duplicates, so no unique index) and tokens are revoked by name.
                    CREATE INDEX tokens_by_name ON tokens (name);
                    """)
        }
        migrator.registerMigration("v6") { db in
            try db.execute(
                sql: """
                    -- The publisher's signing keys, oldest first; each after the first endorsed by
                    -- the one before it.
                    CREATE TABLE signing_keys (
                        number INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, private_key BLOB NOT NULL,
                        endorsement BLOB, created_at INTEGER NOT NULL);
                    """)
            // The published set's digest, computed once from the records; pushes keep it since.
            let digest = try PublishedSetDigest.computed(
                fromStoredStates: try String.fetchAll(db, sql: "SELECT state FROM records WHERE is_public = 1"))
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [PublishedSetDigest.metaKey, digest.stored])
        }
        migrator.registerMigration("v7") { db in
            // A pull counts what remains for its caller (`remaining`) on every page; for field
            // and reader tokens that read `is_public` and `creator` from each remaining row, some
            // 2.6 million row reads for a streamed first sync of 10,000 records. Covered here.
            // It serves everything the index on `last_seq` alone did.
            try db.execute(
                sql: """
                    CREATE INDEX records_by_last_seq_visibility ON records (last_seq, is_public, creator);
                    DROP INDEX records_by_last_seq;
                    """)
        }
        migrator.registerMigration("v8") { db in
            // Each live record's state as a page carries it (``PulledRecord/whole(_:)``), written
            // with `state` by the one statement that writes records: a record changed by hand in
            // one column and not the other is sent as the other says (the publisher's signature
            // catches either). Rows written before have none until their next change, and are
            // decoded as before.
            try db.execute(sql: "ALTER TABLE records ADD COLUMN wire TEXT")
        }
        migrator.registerMigration("v9") { db in
            try db.execute(
                sql: """
                    -- Media (issue 17): blobs named by the SHA-256 of their bytes, stored once; the
                    -- bytes of blobs and of open uploads in chunks; who uploaded each blob; which
                    -- blobs each record names now (visibility and collection follow them).
                    CREATE TABLE media_blobs (
                        id TEXT PRIMARY KEY, size INTEGER NOT NULL, created_at INTEGER NOT NULL,
                        unreferenced_since INTEGER);
                    CREATE TABLE media_uploads (
                        token_id TEXT NOT NULL, blob_id TEXT NOT NULL, size INTEGER NOT NULL,
                        received INTEGER NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (token_id, blob_id));
                    CREATE INDEX media_uploads_by_created_at ON media_uploads (created_at);
                    CREATE TABLE media_uploaders (
                        blob_id TEXT NOT NULL, token_id TEXT NOT NULL, PRIMARY KEY (blob_id, token_id));
                    CREATE INDEX media_uploaders_by_token ON media_uploaders (token_id);
                    CREATE TABLE media_chunks (
                        key TEXT NOT NULL, start INTEGER NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL,
                        PRIMARY KEY (key, start));
                    CREATE TABLE record_media (
                        record_id TEXT NOT NULL, blob_id TEXT NOT NULL, PRIMARY KEY (record_id, blob_id));
                    CREATE INDEX record_media_by_blob ON record_media (blob_id);
                    """)
        }
        migrator.registerMigration("v10") { db in
            // Console sessions (issue 16), under the SHA-256 of their id: in the database, so a
            // restart signs nobody out.
            try db.execute(
                sql: """
                    CREATE TABLE console_sessions (
                        id_hash BLOB PRIMARY KEY, token_hash BLOB NOT NULL, form_key TEXT NOT NULL,
                        expires_at INTEGER NOT NULL);
                    CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
                    """)
        }
        migrator.registerMigration("v11") { db in
            // Protocol 2's wire form (registers sharing their record's stamp), in a column of its
            // own: `wire` is written NULL from now on, so that a server of an older build sharing
            // the database, or rolled back to, never sends this form to a client that cannot read
            // it; it falls back to `state`, as for a row without a wire form.
            try db.execute(sql: "ALTER TABLE records ADD COLUMN shared_wire TEXT")
        }
        return migrator
    }
}
