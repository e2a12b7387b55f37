import Crypto
import Foundation
import GRDB
import HavenCore

/// The local replica: one SQLite file holding merged records with their stamps, the outbox of
/// unsent changes, the conflict log, the sync cursor and the persisted clock (DESIGN §5).
///
/// Every operation that changes the file is one transaction, so a process killed at any
/// instant leaves either all of an edit (record and outbox entry) or none of it.
public struct Replica: Sendable {
    let database: ReplicaDatabase
    /// The replica file's path.
    public let path: String
    /// Wall time before the server offset is added; tests inject their own.
    let wallClock: HybridLogicalClock.WallClock

    /// Creates a new replica file for `server`, refusing to overwrite an existing one; the file
    /// and the directories made for it are the owner's alone (Replica+FileMode.swift). A key file
    /// left at `path.key` without its replica (a creation cut short) is destroyed first: it would
    /// make the new replica ask for a passphrase that does not open it.
    ///
    /// - Parameters:
    ///   - path: the file to create.
    ///   - server: the server's address.
    ///   - token: the token the replica syncs with.
    ///   - link: how the server is reached: its pinned key, or plain HTTP allowed.
    ///   - encryptionKey: the 32-byte data key that seals every page of the replica
    ///     (Encryption/EncryptedVFS.swift); nil for a plaintext replica.
    ///   - wallClock: the wall time its clock reads; tests inject their own.
    public static func create(
        at path: String, server: URL, token: String, link: Link = Link(), encryptionKey: SymmetricKey? = nil,
        wallClock: @escaping HybridLogicalClock.WallClock = HybridLogicalClock.systemWallClock
    ) throws -> Replica {
        try refuseDirectory(path)
        if FileManager.default.fileExists(atPath: path) {
            throw ClientError(
                Words(
                    "a replica already exists at \(path): use another --replica path, or 'haven wipe --yes' first",
                    korean: "\(path)에 이미 복제본이 있습니다: 다른 --replica 경로를 쓰거나, 먼저 'haven wipe --yes'를 실행하세요"))
        }
        // A key file without its replica is left by a creation cut short: it would claim this one.
        ReplicaKeyFile.destroy(beside: path)
        let createdDirectory = try createPrivately(at: path)
        let replica = try Replica(path: path, encryptionKey: encryptionKey, wallClock: wallClock)
        try replica.database.write { db in
            try ReplicaSettings.set(db, .server, server.absoluteString)
            try ReplicaSettings.set(db, .token, token)
            try ReplicaSettings.set(db, .replicaID, ReplicaID.random().rawValue)
            try ReplicaSettings.set(db, .createdDirectory, createdDirectory)
            try ReplicaSettings.set(db, .pin, link.pin?.description)
            try ReplicaSettings.set(db, .insecureHTTP, link.insecureHTTP ? "1" : nil)
        }
        try replica.checkFileIdentity()
        return replica
    }

    /// Opens an existing replica file, taking from its files any permission but the owner's.
    ///
    /// - Parameters:
    ///   - path: the replica file.
    ///   - encryptionKey: the replica's data key; nil for a plaintext replica.
    ///   - wallClock: the wall time its clock reads; tests inject their own.
    /// - Throws: ``ClientError`` when the key does not fit the file: "this replica is not
    ///   encrypted", "wrong key or damaged replica at page 1", or, without a key, that the file
    ///   is encrypted.
    public static func open(
        at path: String, encryptionKey: SymmetricKey? = nil,
        wallClock: @escaping HybridLogicalClock.WallClock = HybridLogicalClock.systemWallClock
    ) throws -> Replica {
        try refuseDirectory(path)
        guard FileManager.default.fileExists(atPath: path) else { throw ClientError.noReplica(path) }
        let replica = try Replica(path: path, encryptionKey: encryptionKey, wallClock: wallClock)
        if encryptionKey != nil { removeEncryptionLeftovers(of: path) }
        try replica.tightenPermissions()
        try replica.checkFileIdentity()
        return replica
    }

    /// A `--replica` that names a directory is a mistake to say in words, not SQLite's.
    private static func refuseDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return }
        let example = URL(fileURLWithPath: path).appendingPathComponent("replica.sqlite").path
        throw ClientError(
            Words(
                "\(path) is a directory: give the replica file's path, such as \(example)",
                korean: "\(path): 디렉터리입니다. 복제본 파일의 경로를 주세요 (예: \(example))"))
    }

    private init(path: String, encryptionKey: SymmetricKey?, wallClock: @escaping HybridLogicalClock.WallClock) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // secure_delete = FAST zeroes deleted rows in b-tree pages when that costs no extra I/O,
        // so sent changes and purged records linger less in the file (see Replica+Wipe.swift).
        // A 16 MiB page cache holds the pages of a streamed download's transaction (up to 16
        // pulled pages and their search documents) without spilling them to the WAL early.
        // temp_store = MEMORY: each write of a record, which the search triggers make a statement
        // of several rows, keeps a statement journal of the pages it changes. On disk that was a
        // file in /var/tmp holding copies of records' pages, written 20 KiB a record: 218 MB in
        // 111,000 calls for an import of 10,500. In memory it is one statement's pages at most,
        // and nothing of a record is left in a temporary file. (An encrypted replica keeps its
        // temporary files in memory already: EncryptedVFS.swift.)
        configuration.prepareDatabase { db in
            try db.execute(
                sql: """
                    PRAGMA synchronous = FULL; PRAGMA secure_delete = FAST; PRAGMA cache_size = -16384;
                    PRAGMA temp_store = MEMORY
                    """)
        }
        // Test-only: a page limit that makes the disk look full (Tests/EndToEndTests/DiskFullTests.swift).
        if let pages = ProcessInfo.processInfo.environment["HAVEN_TEST_MAX_PAGE_COUNT"].flatMap({ Int($0) }) {
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
        }
        let database = try ReplicaDatabase(path: path, key: encryptionKey, configuration: configuration)
        try database.described { try Self.migrator.migrate(database.pool) }
        self.database = database
        self.path = path
        self.wallClock = wallClock
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE records (
                        id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, deleted INTEGER NOT NULL);
                    CREATE INDEX records_by_kind ON records (kind, deleted);
                    -- Unsent local changes, oldest first; 'rejected' ones stay until edited or dropped.
                    CREATE TABLE outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, change_id TEXT NOT NULL UNIQUE,
                        record_id TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
                        error TEXT);
                    CREATE TABLE conflicts (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, body TEXT NOT NULL,
                        received_at INTEGER NOT NULL);
                    """)
        }
        // Full-text search (Replica+Search.swift).
        migrator.registerMigration("v2") { db in try createSearchIndex(db) }
        // Every local write looks up the record's rejected changes: without this index each one
        // scanned the whole outbox, and importing 10,000 records took 107 s (BENCHMARKS.md).
        migrator.registerMigration("v3") { db in
            try db.execute(sql: "CREATE INDEX outbox_by_record ON outbox (record_id, status)")
        }
        // The server's state of records with unsent changes (Replica+Discard.swift).
        migrator.registerMigration("v4") { db in try createServerStates(db) }
        // Signed content (Replica+PublishedSet.swift).
        migrator.registerMigration("v5") { db in try createPublishedSet(db) }
        // Media files (Replica+Media.swift).
        migrator.registerMigration("v6") { db in try createMedia(db) }
        // Each row's published-set seed (StoredRecord); NULL for rows stored before, until written
        // again, and read from the state meanwhile. A change to what an element hashes
        // (CanonicalRecord, Publication) needs a migration that sets every seed to NULL.
        migrator.registerMigration("v7") { db in
            try db.execute(
                sql: """
                    ALTER TABLE records ADD COLUMN seed BLOB;
                    -- A build from before seeds rewrites a row's state and leaves its seed as it was:
                    -- the seed is dropped then. (Rewritten with the same seed, it is dropped too,
                    -- and only costs reading the state again.)
                    CREATE TRIGGER records_seed_stale AFTER UPDATE OF state ON records
                    WHEN new.seed IS old.seed
                    BEGIN UPDATE records SET seed = NULL WHERE id = new.id; END;
                    """)
        }
        return migrator
    }

    /// The server, token and sync position.
    public func settings() throws -> ReplicaSettings {
        try database.read { db in try ReplicaSettings.load(db) }
    }

    /// A clock continuing from the persisted stamp, reading wall time corrected by the server offset.
    func clock(_ settings: ReplicaSettings) -> HybridLogicalClock {
        let wallClock = self.wallClock
        let offset = settings.serverOffset
        return HybridLogicalClock(replica: settings.replicaID, last: settings.clock) {
            UInt64(max(0, Int64(wallClock()) + offset))
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    static let decoder = JSONDecoder()

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A record as the replica stores it: the text `encoder` writes, without its cost.
    static func json(_ record: RecordState) throws -> String {
        String(decoding: try CompactJSON.encode(record, style: .replica), as: UTF8.self)
    }

    /// A change as the outbox stores it: the text `encoder` writes, without its cost.
    static func json(_ change: Change) throws -> String {
        String(decoding: try CompactJSON.encode(change, style: .replica), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }

    /// Records and changes, read without `JSONDecoder`'s cost (``JSONReader``).
    static func decode<T: JSONReadable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONReader.decode(type, from: text)
    }
}
