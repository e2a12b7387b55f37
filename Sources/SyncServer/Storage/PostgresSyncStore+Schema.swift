import HavenCore
import HavenTrust
import Logging
import PostgresNIO

/// The PostgreSQL schema and its migrations. Instances starting together on one database take
/// turns through a transaction-scoped advisory lock, so each migration runs once.
extension PostgresSyncStore {
    /// The schema versions, in order: each is a list of statements run in one transaction.
    static let migrations: [[String]] = [
        [
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """
            CREATE TABLE tokens (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash BYTEA NOT NULL UNIQUE,
                created_at BIGINT NOT NULL, expires_at BIGINT, revoked_at BIGINT)
            """,
            // One row: the highest seq given. Pushes lock it, which serializes them.
            "CREATE TABLE log_head (seq BIGINT NOT NULL)",
            "INSERT INTO log_head (seq) VALUES (0)",
            // The append-only log: rows are inserted, and deleted only by compaction.
            """
            CREATE TABLE change_log (
                seq BIGINT PRIMARY KEY, change_id TEXT NOT NULL UNIQUE, record_id TEXT NOT NULL,
                author TEXT NOT NULL, body TEXT NOT NULL, received_at BIGINT NOT NULL)
            """,
            "CREATE INDEX change_log_by_record ON change_log (record_id)",
            "CREATE INDEX change_log_by_received_at ON change_log (received_at)",
            """
            CREATE TABLE records (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, creator TEXT NOT NULL, state TEXT NOT NULL,
                last_seq BIGINT NOT NULL)
            """,
            "CREATE INDEX records_by_last_seq ON records (last_seq)",
            """
            CREATE TABLE conflicts (
                id BIGSERIAL PRIMARY KEY, seq BIGINT NOT NULL, recipient TEXT NOT NULL, body TEXT NOT NULL)
            """,
            "CREATE INDEX conflicts_by_recipient ON conflicts (recipient, seq)",
            "CREATE TABLE purged_records (id TEXT PRIMARY KEY)",
            "INSERT INTO meta (key, value) VALUES ('horizon', '0')",
        ],
        [
            // Change ids are unique per author, not in the whole log.
            "ALTER TABLE change_log DROP CONSTRAINT change_log_change_id_key",
            "CREATE UNIQUE INDEX change_log_by_author_change ON change_log (author, change_id)",
            // When field staff claimed a record, and whether it is or ever was public (as on SQLite).
            "ALTER TABLE records ADD COLUMN claimed_seq BIGINT",
            "ALTER TABLE records ADD COLUMN first_public_seq BIGINT",
            "ALTER TABLE records ADD COLUMN is_public BIGINT NOT NULL DEFAULT 0",
            """
            UPDATE records SET is_public = 1, first_public_seq = 0
                WHERE state::jsonb #>> '{fields,status,register,value}' = 'published'
                AND NOT (kind = 'story'
                    AND (state::jsonb #>> '{fields,sensitivity,register,value}') IS NOT DISTINCT FROM 'restricted')
            """,
            "CREATE TABLE replicas (id TEXT PRIMARY KEY, token_id TEXT NOT NULL)",
        ],
        [
            // Last use and lookups by name (as on SQLite).
            "ALTER TABLE tokens ADD COLUMN last_used_at BIGINT",
            "CREATE INDEX tokens_by_name ON tokens (name)",
        ],
        [
            // The publisher's signing keys, oldest first (as on SQLite). The published set's
            // digest is computed once after the statements (``storePublishedDigest(_:logger:)``).
            """
            CREATE TABLE signing_keys (
                number BIGINT PRIMARY KEY, id TEXT NOT NULL UNIQUE, private_key BYTEA NOT NULL, endorsement BYTEA,
                created_at BIGINT NOT NULL)
            """,
        ],
        [
            // What a pull counts for `remaining`, covered (as on SQLite).
            "CREATE INDEX records_by_last_seq_visibility ON records (last_seq, is_public, creator)",
            "DROP INDEX records_by_last_seq",
        ],
        [
            // Each live record's state as a page carries it (as on SQLite).
            "ALTER TABLE records ADD COLUMN wire TEXT",
        ],
        [
            // Media (issue 17): blobs, uploads, their bytes in chunks, uploaders, and which blobs
            // each record names now (as on SQLite).
            """
            CREATE TABLE media_blobs (
                id TEXT PRIMARY KEY, size BIGINT NOT NULL, created_at BIGINT NOT NULL, unreferenced_since BIGINT)
            """,
            """
            CREATE TABLE media_uploads (
                token_id TEXT NOT NULL, blob_id TEXT NOT NULL, size BIGINT NOT NULL, received BIGINT NOT NULL,
                created_at BIGINT NOT NULL, PRIMARY KEY (token_id, blob_id))
            """,
            "CREATE INDEX media_uploads_by_created_at ON media_uploads (created_at)",
            "CREATE TABLE media_uploaders (blob_id TEXT NOT NULL, token_id TEXT NOT NULL, PRIMARY KEY (blob_id, token_id))",
            "CREATE INDEX media_uploaders_by_token ON media_uploaders (token_id)",
            """
            CREATE TABLE media_chunks (
                key TEXT NOT NULL, start BIGINT NOT NULL, size BIGINT NOT NULL, data BYTEA NOT NULL,
                PRIMARY KEY (key, start))
            """,
            "CREATE TABLE record_media (record_id TEXT NOT NULL, blob_id TEXT NOT NULL, PRIMARY KEY (record_id, blob_id))",
            "CREATE INDEX record_media_by_blob ON record_media (blob_id)",
        ],
        // Console sessions (issue 16), shared by every instance on the database.
        [
            """
            CREATE TABLE console_sessions (
                id_hash BYTEA PRIMARY KEY, token_hash BYTEA NOT NULL, form_key TEXT NOT NULL, expires_at BIGINT NOT NULL)
            """,
            "CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at)",
        ],
        // Protocol 2's wire form in a column of its own, `wire` written NULL (as on SQLite).
        ["ALTER TABLE records ADD COLUMN shared_wire TEXT"],
    ]

    /// Computes the published set's digest from the records and stores it, once: a database
    /// that has one keeps it (pushes maintain it).
    private static func storePublishedDigest(_ connection: PostgresConnection, logger: Logger) async throws {
        let key = PublishedSetDigest.metaKey
        guard try await !connection.exists("SELECT 1 FROM meta WHERE key = \(key)", logger) else { return }
        let digest = try PublishedSetDigest.computed(
            fromStoredStates: try await connection.rows("SELECT state FROM records WHERE is_public = 1", as: String.self, logger))
        try await connection.query("INSERT INTO meta (key, value) VALUES (\(key), \(digest.stored))", logger: logger)
    }

    /// An arbitrary constant: the advisory lock that migrations take.
    private static let migrationLock: Int64 = 0x4861_7665_6E00

    /// Brings the schema to the latest version and returns the store's epoch.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> String {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS haven_schema (version INTEGER NOT NULL)", logger: logger)
            let version = try await connection.rows("SELECT version FROM haven_schema", as: Int32.self, logger).first
            let current = Int(version ?? 0)
            guard current <= migrations.count else {
                throw PostgresStoreError(
                    "the database has schema version \(current), newer than this haven-server knows (\(migrations.count)): upgrade haven-server"
                )
            }
            for statements in migrations.dropFirst(current) {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            try await storePublishedDigest(connection, logger: logger)
            if version == nil {
                try await connection.query(
                    "INSERT INTO meta (key, value) VALUES ('epoch', \(TokenSecret.generateID()))", logger: logger)
                try await connection.query(
                    "INSERT INTO haven_schema (version) VALUES (\(Int32(migrations.count)))", logger: logger)
            } else {
                try await connection.query("UPDATE haven_schema SET version = \(Int32(migrations.count))", logger: logger)
            }
            return try await connection.one("SELECT value FROM meta WHERE key = 'epoch'", as: String.self, logger)
        }
    }
}
