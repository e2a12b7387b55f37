import Foundation
import GRDB
import HavenCore

/// Media files in the replica (issue 17): kept in the replica's own SQLite file, in chunks, so
/// they are encrypted exactly as the replica is, wiped with it, and written in its transactions.
///
/// Rule 1. `media add` stores the file and adds its reference to the record in one transaction,
/// through a local edit: the change waits in the outbox like any other.
///
/// Rule 2. A file this replica added is sent before any change that names it (``SyncEngine``):
/// `on_server` says the server holds it whole. A file that keeps failing keeps its reason,
/// which `haven status` shows.
///
/// Rule 3. A downloaded file is stored as its pieces arrive and checked against its hash when
/// whole; a file that does not match is dropped, never shown.
extension Replica {
    /// Bytes of one stored chunk of a media file.
    static let mediaChunkBytes = 256 << 10

    /// A media file as the replica holds it.
    public struct LocalMedia: Sendable, Hashable {
        /// The file's id: the SHA-256 of its bytes.
        public var id: String
        /// The file's length in bytes.
        public var size: Int64
        /// Bytes held, from the start.
        public var received: Int64
        /// Whether the server holds it whole.
        public var onServer: Bool
        /// Failed attempts to upload it, and the last reason, while it is not on the server.
        public var failures: Int
        /// Why the last attempt failed, in words; nil before any failed.
        public var lastError: String?

        /// Whether every byte is here.
        public var isComplete: Bool { received == size }
    }

    static func createMedia(_ db: Database) throws {
        try db.execute(
            sql: """
                -- Media files by the SHA-256 of their bytes (issue 17); their bytes in chunks.
                CREATE TABLE media_files (
                    id TEXT PRIMARY KEY, size INTEGER NOT NULL, received INTEGER NOT NULL,
                    on_server INTEGER NOT NULL, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT);
                CREATE TABLE media_chunks (
                    file_id TEXT NOT NULL, start INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (file_id, start));
                """)
    }

    /// Stores `bytes` as a file of the record and adds its reference to the record's `media`
    /// field, in one transaction (rule 1).
    ///
    /// - Returns: the reference added.
    /// - Throws: `ValidationError` when the field would break the schema (too many files, a
    ///   name taken, a type not allowed), ``ClientError`` for a missing or deleted record.
    @discardableResult
    public func addMedia(to recordID: String, bytes: Data, name: String, type: String) throws -> MediaReference {
        let reference = MediaReference(id: MediaHash.id(of: bytes), type: type, size: Int64(bytes.count), name: name)
        try database.write { db in
            let record = try loadRecord(db, matching: recordID, kind: nil)
            var references = MediaReference.references(in: record.values["media"])
            if references.contains(where: { $0.name == name }) {
                throw ClientError(
                    Words(
                        "record \(record.id) has a file named \(name) already: give this one another name with --name",
                        korean: "기록 \(record.id)에 이름이 같은 파일이 이미 있습니다 (\(name)): --name으로 다른 이름을 주세요"))
            }
            references.append(reference)
            if try localMedia(db, reference.id) == nil {
                try db.execute(
                    sql: "INSERT INTO media_files (id, size, received, on_server) VALUES (?, ?, ?, 0)",
                    arguments: [reference.id, reference.size, reference.size])
                var start = 0
                while start < bytes.count {
                    let end = min(bytes.count, start + Self.mediaChunkBytes)
                    try db.execute(
                        sql: "INSERT INTO media_chunks (file_id, start, data) VALUES (?, ?, ?)",
                        arguments: [reference.id, start, bytes.subdata(in: start..<end)])
                    start = end
                }
            }
            _ = try edit(db, record.id, kind: nil, values: ["media": MediaReference.field(references)])
        }
        return reference
    }

    /// The record (`id` or the start of it) and the files its `media` field names.
    public func media(of recordID: String) throws -> (record: RecordState, files: [MediaReference]) {
        try database.read { db in
            let record = try loadRecord(db, matching: recordID, kind: nil)
            return (record, MediaReference.references(in: record.values["media"]))
        }
    }

    /// The file as held here, nil when none of it is.
    public func localMedia(_ id: String) throws -> LocalMedia? {
        try database.read { db in try localMedia(db, id) }
    }

    private func localMedia(_ db: Database, _ id: String) throws -> LocalMedia? {
        try Row.fetchOne(db, sql: "SELECT * FROM media_files WHERE id = ?", arguments: [id]).map {
            LocalMedia(
                id: $0["id"], size: $0["size"], received: $0["received"], onServer: $0["on_server"],
                failures: $0["failures"], lastError: $0["last_error"])
        }
    }

    /// The held bytes of a file from `start` up to `end` (exclusive).
    public func mediaBytes(_ id: String, from start: Int64, to end: Int64) throws -> Data {
        try database.read { db in
            var result = Data()
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT start, data FROM media_chunks WHERE file_id = ? AND start < ?
                    AND start >= coalesce((SELECT max(start) FROM media_chunks WHERE file_id = ? AND start <= ?), 0)
                    ORDER BY start
                    """, arguments: [id, end, id, start])
            for row in rows {
                let chunkStart: Int64 = row["start"]
                let data: Data = row["data"]
                let from = Int(max(start, chunkStart) - chunkStart)
                let to = Int(min(end, chunkStart + Int64(data.count)) - chunkStart)
                if from < to { result.append(data.subdata(in: from..<to)) }
            }
            return result
        }
    }

    /// Appends downloaded bytes of a file at `offset`, its end so far; when they make it whole,
    /// checks its hash, and drops it if the hash is not its id (rule 3).
    ///
    /// - Returns: the bytes held after the append.
    /// - Throws: ``ClientError`` when the whole file does not hash to its id.
    @discardableResult
    package func appendDownloaded(_ id: String, size: Int64, at offset: Int64, _ bytes: Data) throws -> Int64 {
        let end = try database.write { db in
            let held = try localMedia(db, id)
            if held == nil {
                try db.execute(
                    sql: "INSERT INTO media_files (id, size, received, on_server) VALUES (?, ?, 0, 1)", arguments: [id, size])
            }
            let received = held?.received ?? 0
            guard received == offset, offset + Int64(bytes.count) <= size else { return received }
            try db.execute(
                sql: "INSERT INTO media_chunks (file_id, start, data) VALUES (?, ?, ?)", arguments: [id, offset, bytes])
            let end = offset + Int64(bytes.count)
            try db.execute(sql: "UPDATE media_files SET received = ? WHERE id = ?", arguments: [end, id])
            return end
        }
        if end == size, MediaHash.id(of: try mediaBytes(id, from: 0, to: size)) != id {
            try database.write { db in
                try db.execute(sql: "DELETE FROM media_chunks WHERE file_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM media_files WHERE id = ?", arguments: [id])
            }
            throw ClientError(
                Words(
                    "media file \(id): the bytes the server sent do not match the file's hash; they were dropped",
                    korean: "미디어 파일 \(id): 서버가 보낸 내용이 파일의 해시와 맞지 않아 버렸습니다"))
        }
        return end
    }

    /// Files this replica added that the server does not hold yet, among `ids`, with their sizes.
    package func mediaAwaitingUpload(among ids: some Sequence<String>) throws -> [LocalMedia] {
        try database.read { db in
            try Set(ids).sorted().compactMap { try localMedia(db, $0) }.filter { !$0.onServer && $0.isComplete }
        }
    }

    /// Whether any file held here is not on the server yet: when none is, a batch of changes
    /// needs no look for the files it names (10% of a large push's time, decoding each change).
    package func holdsMediaNotOnServer() throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM media_files WHERE on_server = 0)") ?? false
        }
    }

    /// Notes that the server holds the file whole.
    package func markMediaOnServer(_ id: String) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE media_files SET on_server = 1, failures = 0, last_error = NULL WHERE id = ?", arguments: [id])
        }
    }

    /// Notes a failed attempt to upload the file, and why (rule 2).
    package func recordMediaFailure(_ id: String, reason: String) throws {
        try database.write { db in
            try db.execute(
                sql: "UPDATE media_files SET failures = failures + 1, last_error = ? WHERE id = ?", arguments: [reason, id])
        }
    }

    /// Files that failed to upload and are still waiting, with the names records give them.
    public func failingMedia() throws -> [(file: LocalMedia, names: [String])] {
        try database.read { db in try failingMedia(db) }
    }

    func failingMedia(_ db: Database) throws -> [(file: LocalMedia, names: [String])] {
        let failing = try String.fetchAll(db, sql: "SELECT id FROM media_files WHERE on_server = 0 AND failures > 0 ORDER BY id")
            .compactMap { try localMedia(db, $0) }
        guard !failing.isEmpty else { return [] }
        var names: [String: [String]] = [:]
        for reference in try Self.namedMedia(db) { names[reference.id, default: []].append(reference.name) }
        return failing.map { ($0, names[$0.id] ?? []) }
    }

    /// The media references of the records here that are not deleted. SQLite picks the records
    /// whose text mentions `"media"` (a key, or a value such as a tag: those have no field and
    /// give NULL) and reads that field's register from them: a sync runs this, and decoding
    /// every record of a 10,000-record replica took half a second each time.
    static func namedMedia(_ db: Database) throws -> [MediaReference] {
        try String?.fetchAll(
            db,
            sql: """
                SELECT json_extract(state, '$.fields.media') FROM records
                WHERE deleted = 0 AND instr(state, '"media"') > 0
                """
        ).compactMap { $0 }.flatMap { MediaReference.references(in: try Self.decode(Register.self, $0).value) }
    }

    /// Deletes the files no record here names and no unsent change names: those of records
    /// deleted, or that this token may no longer see, leave the device with them.
    ///
    /// - Returns: how many files were dropped.
    @discardableResult
    package func dropUnnamedMedia() throws -> Int {
        try database.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM media_files)") == true else { return 0 }
            var named = Set(try Self.namedMedia(db).map(\.id))
            for body in try String.fetchAll(db, sql: "SELECT body FROM outbox WHERE status IN ('pending', 'rejected')") {
                named.formUnion(MediaReference.blobIDs(writtenBy: try Self.decode(Change.self, body).record) ?? [])
            }
            let unnamed = try String.fetchAll(db, sql: "SELECT id FROM media_files").filter { !named.contains($0) }
            for id in unnamed {
                try db.execute(sql: "DELETE FROM media_chunks WHERE file_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM media_files WHERE id = ?", arguments: [id])
            }
            return unnamed.count
        }
    }

    /// Files that records of this replica name and that are not all here, smallest first.
    package func mediaToDownload() throws -> [MediaReference] {
        try database.read { db in
            var wanted: [String: MediaReference] = [:]
            for reference in try Self.namedMedia(db) { wanted[reference.id] = reference }
            return try wanted.values.filter { try localMedia(db, $0.id)?.isComplete != true }
                .sorted { ($0.size, $0.id) < ($1.size, $1.id) }
        }
    }
}
