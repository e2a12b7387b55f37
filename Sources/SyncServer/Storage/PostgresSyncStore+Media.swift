import HavenCore
import Logging
import NIOCore
import PostgresNIO

/// Media in the PostgreSQL store: blobs, uploads and their bytes in chunks (``MediaStorage``), the
/// same rows as on SQLite. Every instance on the database serves the same files.
extension PostgresSyncStore {
    package func openUpload(
        blob: String, token: String, now: UInt64, decide: @escaping @Sendable (UploadRows) throws -> UploadState
    ) async throws -> UploadState {
        let logger = self.logger
        return try await client.transaction(logger: logger) { connection in
            // One open at a time per token, so that two cannot both pass the quota.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(token)))", logger: logger)
            let existing = try await Self.upload(blob, token, connection, logger)
            let used = try await connection.one(
                """
                SELECT (SELECT COALESCE(SUM(b.size), 0) FROM media_uploaders u JOIN media_blobs b ON b.id = u.blob_id
                    WHERE u.token_id = \(token))::bigint
                    + (SELECT COALESCE(SUM(size), 0) FROM media_uploads WHERE token_id = \(token))::bigint
                """, as: Int64.self, logger)
            let state = try decide(UploadRows(existing: existing, usedBytes: used))
            if existing == nil {
                try await connection.query(
                    """
                    INSERT INTO media_uploads (token_id, blob_id, size, received, created_at)
                    VALUES (\(token), \(blob), \(state.size), 0, \(Int64(clamping: now)))
                    """, logger: logger)
            }
            return state
        }
    }

    package func appendUpload(blob: String, token: String, at offset: Int64, _ bytes: [UInt8]) async throws
        -> AppendOutcome
    {
        let logger = self.logger
        let key = MediaKey.upload(token: token, blob: blob).stored
        return try await client.transaction(logger: logger) { connection in
            guard
                let (size, received) = try await connection.rows(
                    "SELECT size, received FROM media_uploads WHERE token_id = \(token) AND blob_id = \(blob) FOR UPDATE",
                    as: (Int64, Int64).self, logger
                ).first
            else { return .noUpload }
            guard received == offset else { return .mismatch(received) }
            guard offset + Int64(bytes.count) <= size else { return .pastEnd(size) }
            guard !bytes.isEmpty else { return .appended(received) }
            try await connection.query(
                """
                INSERT INTO media_chunks (key, start, size, data)
                VALUES (\(key), \(offset), \(Int64(bytes.count)), \(ByteBuffer(bytes: bytes)))
                """, logger: logger)
            let end = offset + Int64(bytes.count)
            try await connection.query(
                "UPDATE media_uploads SET received = \(end) WHERE token_id = \(token) AND blob_id = \(blob)", logger: logger)
            return .appended(end)
        }
    }

    package func bytes(of key: MediaKey, from start: Int64, to end: Int64) async throws -> [UInt8] {
        let logger = self.logger
        let chunks = try await client.withConnection { connection in
            try await connection.rows(
                """
                SELECT start, data FROM media_chunks WHERE key = \(key.stored) AND start < \(end) AND start + size > \(start)
                ORDER BY start
                """, as: (Int64, ByteBuffer).self, logger)
        }
        return MediaChunks.slice(chunks.map { ($0.0, Array($0.1.readableBytesView)) }, from: start, to: end)
    }

    package func completeUpload(blob: String, token: String, now: UInt64) async throws {
        let logger = self.logger
        let key = MediaKey.upload(token: token, blob: blob).stored
        try await client.transaction(logger: logger) { connection in
            // Completions of one blob take turns: the first stores its bytes, the others drop theirs.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(blob)))", logger: logger)
            guard
                let size = try await connection.rows(
                    "SELECT size FROM media_uploads WHERE token_id = \(token) AND blob_id = \(blob)", as: Int64.self, logger
                ).first
            else { return }
            if try await connection.exists("SELECT 1 FROM media_blobs WHERE id = \(blob)", logger) {
                try await connection.query("DELETE FROM media_chunks WHERE key = \(key)", logger: logger)
            } else {
                try await connection.query("UPDATE media_chunks SET key = \(blob) WHERE key = \(key)", logger: logger)
                // Unreferenced from the start: a file no push ever names is collected after the window.
                try await connection.query(
                    """
                    INSERT INTO media_blobs (id, size, created_at, unreferenced_since)
                    VALUES (\(blob), \(size), \(Int64(clamping: now)), \(Int64(clamping: now)))
                    """, logger: logger)
            }
            try await connection.query(
                "INSERT INTO media_uploaders (blob_id, token_id) VALUES (\(blob), \(token)) ON CONFLICT DO NOTHING",
                logger: logger)
            try await connection.query(
                "DELETE FROM media_uploads WHERE token_id = \(token) AND blob_id = \(blob)", logger: logger)
        }
    }

    package func discardUpload(blob: String, token: String) async throws {
        let logger = self.logger
        try await client.transaction(logger: logger) { connection in
            try await Self.discardUpload(blob: blob, token: token, connection, logger)
        }
    }

    package func blobRows(_ blob: String) async throws -> BlobRows? {
        let logger = self.logger
        return try await readSnapshot { connection in
            guard
                let size = try await connection.rows("SELECT size FROM media_blobs WHERE id = \(blob)", as: Int64.self, logger)
                    .first
            else { return nil }
            let records = try await Self.storedRecords(
                """
                SELECT \(unescaped: Self.recordColumns) FROM records
                WHERE id IN (SELECT record_id FROM record_media WHERE blob_id = \(blob))
                """, connection, logger)
            return BlobRows(size: size, records: records)
        }
    }

    private static func discardUpload(blob: String, token: String, _ connection: PostgresConnection, _ logger: Logger)
        async throws
    {
        let key = MediaKey.upload(token: token, blob: blob).stored
        try await connection.query("DELETE FROM media_chunks WHERE key = \(key)", logger: logger)
        try await connection.query(
            "DELETE FROM media_uploads WHERE token_id = \(token) AND blob_id = \(blob)", logger: logger)
    }

    /// The caller's upload of `blob`: complete when it uploaded the stored blob, else as opened.
    private static func upload(_ blob: String, _ token: String, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> UploadState?
    {
        if let size = try await connection.rows(
            """
            SELECT b.size FROM media_uploaders u JOIN media_blobs b ON b.id = u.blob_id
            WHERE u.blob_id = \(blob) AND u.token_id = \(token)
            """, as: Int64.self, logger
        ).first {
            return UploadState(size: size, received: size, complete: true)
        }
        return try await connection.rows(
            "SELECT size, received FROM media_uploads WHERE token_id = \(token) AND blob_id = \(blob)",
            as: (Int64, Int64).self, logger
        ).first.map { UploadState(size: $0.0, received: $0.1, complete: false) }
    }

    // MARK: Within pushes and compactions

    /// Those of `blobs` that are complete and that `author` uploaded.
    static func uploadedBlobs(_ blobs: [String], by author: String, _ connection: PostgresConnection, _ logger: Logger)
        async throws -> Set<String>
    {
        guard !blobs.isEmpty else { return [] }
        return Set(
            try await connection.rows(
                """
                SELECT u.blob_id FROM media_uploaders u JOIN media_blobs b ON b.id = u.blob_id
                WHERE u.blob_id = ANY(\(blobs)) AND u.token_id = \(author)
                """, as: String.self, logger))
    }

    /// Records which blobs each record names now; a blob named again is no longer unreferenced.
    static func writeRecordMedia(_ recordMedia: [String: [String]], _ connection: PostgresConnection, _ logger: Logger)
        async throws
    {
        for (record, blobs) in recordMedia {
            let blobs = Array(Set(blobs))
            try await connection.query("DELETE FROM record_media WHERE record_id = \(record)", logger: logger)
            try await connection.query(
                "INSERT INTO record_media (record_id, blob_id) SELECT \(record), unnest(\(blobs)::text[])", logger: logger)
            try await connection.query(
                "UPDATE media_blobs SET unreferenced_since = NULL WHERE id = ANY(\(blobs))", logger: logger)
        }
    }

    /// Drops the media references of purged records, then collects media (``MediaCollection``).
    ///
    /// - Returns: how many blobs were removed.
    static func collectMedia(_ purge: PurgeWrites, _ connection: PostgresConnection, _ logger: Logger) async throws
        -> Int
    {
        var rows = MediaCollectionRows()
        rows.purgedRecordBlobs = Set(
            try await connection.rows(
                "DELETE FROM record_media WHERE record_id = ANY(\(purge.purgedRecords)) RETURNING blob_id",
                as: String.self, logger))
        rows.unreferenced = try await connection.rows(
            """
            SELECT id, unreferenced_since FROM media_blobs
            WHERE NOT EXISTS (SELECT 1 FROM record_media WHERE blob_id = media_blobs.id)
            """, as: (String, Int64?).self, logger
        ).map { (id: $0.0, since: $0.1.map { UInt64(clamping: $0) }) }
        let collection = MediaCollection(rows, cutoff: purge.conflictCutoff, now: purge.now)
        try await connection.query(
            """
            UPDATE media_blobs SET unreferenced_since = \(Int64(clamping: collection.now))
            WHERE id = ANY(\(collection.newlyUnreferenced))
            """, logger: logger)
        let removed = collection.removedBlobs
        try await connection.query("DELETE FROM media_chunks WHERE key = ANY(\(removed))", logger: logger)
        try await connection.query("DELETE FROM media_uploaders WHERE blob_id = ANY(\(removed))", logger: logger)
        try await connection.query("DELETE FROM media_blobs WHERE id = ANY(\(removed))", logger: logger)
        for (token, blob) in try await connection.rows(
            "SELECT token_id, blob_id FROM media_uploads WHERE created_at < \(Int64(clamping: collection.uploadCutoff))",
            as: (String, String).self, logger)
        {
            try await discardUpload(blob: blob, token: token, connection, logger)
        }
        return removed.count
    }
}
