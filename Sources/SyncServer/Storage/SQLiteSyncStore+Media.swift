import Foundation
import GRDB
import HavenCore

/// Media in the SQLite store: blobs, uploads and their bytes in chunks (``MediaStorage``).
extension SQLiteSyncStore {
    package func openUpload(
        blob: String, token: String, now: UInt64, decide: @escaping @Sendable (UploadRows) throws -> UploadState
    ) async throws -> UploadState {
        try await database.write { db in
            let existing = try Self.upload(blob, token, db)
            let used =
                try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT COALESCE(SUM(b.size), 0) FROM media_uploaders u JOIN media_blobs b ON b.id = u.blob_id
                            WHERE u.token_id = ?) + (SELECT COALESCE(SUM(size), 0) FROM media_uploads WHERE token_id = ?)
                        """, arguments: [token, token]) ?? 0
            let state = try decide(UploadRows(existing: existing, usedBytes: used))
            if existing == nil {
                try db.execute(
                    sql: "INSERT INTO media_uploads (token_id, blob_id, size, received, created_at) VALUES (?, ?, ?, 0, ?)",
                    arguments: [token, blob, state.size, Int64(clamping: now)])
            }
            return state
        }
    }

    package func appendUpload(blob: String, token: String, at offset: Int64, _ bytes: [UInt8]) async throws
        -> AppendOutcome
    {
        try await database.write { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT size, received FROM media_uploads WHERE token_id = ? AND blob_id = ?",
                    arguments: [token, blob])
            else { return .noUpload }
            let (size, received): (Int64, Int64) = (row["size"], row["received"])
            guard received == offset else { return .mismatch(received) }
            guard offset + Int64(bytes.count) <= size else { return .pastEnd(size) }
            guard !bytes.isEmpty else { return .appended(received) }
            try db.execute(
                sql: "INSERT INTO media_chunks (key, start, size, data) VALUES (?, ?, ?, ?)",
                arguments: [MediaKey.upload(token: token, blob: blob).stored, offset, bytes.count, Data(bytes)])
            try db.execute(
                sql: "UPDATE media_uploads SET received = ? WHERE token_id = ? AND blob_id = ?",
                arguments: [offset + Int64(bytes.count), token, blob])
            return .appended(offset + Int64(bytes.count))
        }
    }

    package func bytes(of key: MediaKey, from start: Int64, to end: Int64) async throws -> [UInt8] {
        let chunks = try await database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT start, data FROM media_chunks WHERE key = ? AND start < ? AND start + size > ? ORDER BY start",
                arguments: [key.stored, end, start]
            ).map { (start: $0["start"] as Int64, data: $0["data"] as Data) }
        }
        return MediaChunks.slice(chunks.map { ($0.start, [UInt8]($0.data)) }, from: start, to: end)
    }

    package func completeUpload(blob: String, token: String, now: UInt64) async throws {
        try await database.write { db in
            let key = MediaKey.upload(token: token, blob: blob).stored
            guard
                let size = try Int64.fetchOne(
                    db, sql: "SELECT size FROM media_uploads WHERE token_id = ? AND blob_id = ?", arguments: [token, blob])
            else { return }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM media_blobs WHERE id = ?", arguments: [blob]) != nil {
                try db.execute(sql: "DELETE FROM media_chunks WHERE key = ?", arguments: [key])
            } else {
                try db.execute(sql: "UPDATE media_chunks SET key = ? WHERE key = ?", arguments: [blob, key])
                // Unreferenced from the start: a file no push ever names is collected after the window.
                try db.execute(
                    sql: "INSERT INTO media_blobs (id, size, created_at, unreferenced_since) VALUES (?, ?, ?, ?)",
                    arguments: [blob, size, Int64(clamping: now), Int64(clamping: now)])
            }
            try db.execute(
                sql: "INSERT OR IGNORE INTO media_uploaders (blob_id, token_id) VALUES (?, ?)", arguments: [blob, token])
            try db.execute(sql: "DELETE FROM media_uploads WHERE token_id = ? AND blob_id = ?", arguments: [token, blob])
        }
    }

    package func discardUpload(blob: String, token: String) async throws {
        try await database.write { db in
            try Self.discardUpload(blob: blob, token: token, db)
        }
    }

    package func blobRows(_ blob: String) async throws -> BlobRows? {
        try await database.read { db in
            guard let size = try Int64.fetchOne(db, sql: "SELECT size FROM media_blobs WHERE id = ?", arguments: [blob])
            else { return nil }
            let records = try Row.fetchAll(
                db,
                sql: "SELECT \(Self.recordColumns) FROM records WHERE id IN (SELECT record_id FROM record_media WHERE blob_id = ?)",
                arguments: [blob]
            ).map(Self.storedRecord)
            return BlobRows(size: size, records: records)
        }
    }

    private static func discardUpload(blob: String, token: String, _ db: Database) throws {
        try db.execute(
            sql: "DELETE FROM media_chunks WHERE key = ?", arguments: [MediaKey.upload(token: token, blob: blob).stored])
        try db.execute(sql: "DELETE FROM media_uploads WHERE token_id = ? AND blob_id = ?", arguments: [token, blob])
    }

    /// The caller's upload of `blob`: complete when it uploaded the stored blob, else as opened.
    private static func upload(_ blob: String, _ token: String, _ db: Database) throws -> UploadState? {
        if let size = try Int64.fetchOne(
            db,
            sql: "SELECT b.size FROM media_uploaders u JOIN media_blobs b ON b.id = u.blob_id WHERE u.blob_id = ? AND u.token_id = ?",
            arguments: [blob, token])
        {
            return UploadState(size: size, received: size, complete: true)
        }
        return try Row.fetchOne(
            db, sql: "SELECT size, received FROM media_uploads WHERE token_id = ? AND blob_id = ?", arguments: [token, blob]
        ).map { UploadState(size: $0["size"], received: $0["received"], complete: false) }
    }

    // MARK: Within pushes and compactions

    /// Those of `blobs` that are complete and that `author` uploaded.
    static func uploadedBlobs(_ blobs: [String], by author: String, _ db: Database) throws -> Set<String> {
        let uploaded = try db.cachedStatement(
            sql: "SELECT 1 FROM media_uploaders u JOIN media_blobs b ON b.id = u.blob_id WHERE u.blob_id = ? AND u.token_id = ?")
        return try Set(blobs.filter { try Bool.fetchOne(uploaded, arguments: [$0, author]) != nil })
    }

    /// Records which blobs each record names now; a blob named again is no longer unreferenced.
    static func writeRecordMedia(_ recordMedia: [String: [String]], _ db: Database) throws {
        for (record, blobs) in recordMedia {
            try db.execute(sql: "DELETE FROM record_media WHERE record_id = ?", arguments: [record])
            for blob in Set(blobs) {
                try db.execute(sql: "INSERT INTO record_media (record_id, blob_id) VALUES (?, ?)", arguments: [record, blob])
                try db.execute(sql: "UPDATE media_blobs SET unreferenced_since = NULL WHERE id = ?", arguments: [blob])
            }
        }
    }

    /// Drops the media references of purged records, then collects media (``MediaCollection``).
    ///
    /// - Returns: how many blobs were removed.
    static func collectMedia(_ purge: PurgeWrites, _ db: Database) throws -> Int {
        var rows = MediaCollectionRows()
        for id in purge.purgedRecords {
            rows.purgedRecordBlobs.formUnion(
                try String.fetchAll(db, sql: "SELECT blob_id FROM record_media WHERE record_id = ?", arguments: [id]))
            try db.execute(sql: "DELETE FROM record_media WHERE record_id = ?", arguments: [id])
        }
        rows.unreferenced = try Row.fetchAll(
            db,
            sql: "SELECT id, unreferenced_since FROM media_blobs WHERE NOT EXISTS (SELECT 1 FROM record_media WHERE blob_id = media_blobs.id)"
        ).map { (id: $0["id"], since: ($0["unreferenced_since"] as Int64?).map { UInt64(clamping: $0) }) }
        let collection = MediaCollection(rows, cutoff: purge.conflictCutoff, now: purge.now)
        for blob in collection.newlyUnreferenced {
            try db.execute(
                sql: "UPDATE media_blobs SET unreferenced_since = ? WHERE id = ?",
                arguments: [Int64(clamping: collection.now), blob])
        }
        for blob in collection.removedBlobs {
            try db.execute(sql: "DELETE FROM media_chunks WHERE key = ?", arguments: [blob])
            try db.execute(sql: "DELETE FROM media_uploaders WHERE blob_id = ?", arguments: [blob])
            try db.execute(sql: "DELETE FROM media_blobs WHERE id = ?", arguments: [blob])
        }
        for row in try Row.fetchAll(
            db, sql: "SELECT token_id, blob_id FROM media_uploads WHERE created_at < ?",
            arguments: [Int64(clamping: collection.uploadCutoff)])
        {
            try discardUpload(blob: row["blob_id"], token: row["token_id"], db)
        }
        return collection.removedBlobs.count
    }
}
