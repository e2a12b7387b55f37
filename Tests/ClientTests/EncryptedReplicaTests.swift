import Crypto
import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

@testable import HavenClient

/// The replica encrypted at rest (issue 13): nothing readable on disk, and a file changed on
/// disk, or opened with the wrong key or none, gives a clear error, never garbage.
@Suite(.temporaryDirectory)
struct EncryptedReplicaTests {
    let key = SymmetricKey(size: .bits256)
    let token = "hv_tok_7d1c0b9e4f2a8365"

    private func create(_ name: String = "replica.sqlite", key: SymmetricKey? = nil) throws -> Replica {
        try Replica.create(
            at: TemporaryDirectory.path(name), server: Fixtures.server, token: token, encryptionKey: key ?? self.key,
            wallClock: ManualClock(Fixtures.epoch).read)
    }

    private var directory: URL { URL(fileURLWithPath: TemporaryDirectory.path("")) }

    private func needles() -> [(String, [UInt8])] { ReplicaFiles.needles(ReplicaFiles.phrases + [token]) }

    // MARK: Nothing readable on disk

    @Test func noPhraseNorTokenIsOnDiskWhileOpenNorAfter() throws {
        do {
            let replica = try create()
            try addSecretStories(to: replica)
            #expect(try replica.search(SearchQuery("Yanji")).count == 1)
            #expect(FileManager.default.fileExists(atPath: replica.path + "-wal"))
            #expect(try ReplicaFiles.scan(directory, for: needles()) == [])
        }
        #expect(try ReplicaFiles.scan(directory, for: needles()) == [])
        let reopened = try Replica.open(at: TemporaryDirectory.path("replica.sqlite"), encryptionKey: key)
        #expect(try reopened.settings().token == token)
        #expect(try reopened.search(SearchQuery("하나원에서")).count == 1)
    }

    /// The scan itself finds the phrases in a plaintext replica, in every encoding it checks.
    @Test func theScanFindsThePhrasesInAPlaintextReplica() throws {
        let replica = try Replica.create(
            at: TemporaryDirectory.path("plain.sqlite"), server: Fixtures.server, token: token,
            wallClock: ManualClock(Fixtures.epoch).read)
        try addSecretStories(to: replica)
        let hits = try ReplicaFiles.scan(directory, for: needles())
        #expect(hits.contains { $0.hasPrefix(token) })
        #expect(hits.contains { $0.hasPrefix("탈북여성쉼터 (UTF-8)") })
    }

    @Test func theFileDoesNotStartAsSQLiteAndReservesRoomOnEveryPage() throws {
        let path: String
        do {
            let replica = try create()
            path = replica.path
            try addSecretStories(to: replica)
            #expect(try replica.database.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == 4096)
        }
        let start = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)).prefix(16))
        #expect(start != Array("SQLite format 3\0".utf8))
        #expect(Replica.isEncrypted(at: path) == true)
        // Page 1 opened with the key: a SQLite header with pages of 4096 bytes, 28 reserved (byte 20).
        var page = try ReplicaFiles.page(1, of: path)
        let opened = page.withUnsafeMutableBytes {
            PageCipher(dataKey: key).open($0, associatedData: EncryptedFile.databaseData(page: 1))
        }
        #expect(opened)
        #expect(page.starts(with: Array("SQLite format 3\0".utf8)))
        #expect(page[16] == 0x10 && page[17] == 0x00 && page[20] == 28)
        #expect(page[18] == 2 && page[19] == 2)  // WAL mode.
    }

    /// A rollback journal is held in memory (EncryptedVFS.swift), so a replica in place must
    /// never need one: the only one is opened at creation, while the database is still empty
    /// (`PRAGMA journal_mode = WAL` on it); writing, searching, reopening and closing open none.
    @Test func aReplicaOpensARollbackJournalOnlyWhileEmpty() throws {
        let key = SymmetricKey(size: .bits256)  // A VFS of its own, whose count is this test's.
        let vfs = try EncryptedVFS.forKey(key)
        do {
            let replica = try create(key: key)
            #expect(vfs.rollbackJournalsOpened == 1)
            try addSecretStories(to: replica)
        }
        do {
            let replica = try Replica.open(at: TemporaryDirectory.path("replica.sqlite"), encryptionKey: key)
            try replica.edit(try replica.records(.story)[0].id, values: ["title": "Renamed"])
        }
        _ = try Replica.open(at: TemporaryDirectory.path("replica.sqlite"), encryptionKey: key).records()
        #expect(vfs.rollbackJournalsOpened == 1)
    }

    // MARK: Keys that do not fit

    @Test func aPlaintextReplicaOpenedWithAKeyIsRefused() throws {
        let path = TemporaryDirectory.path("plain.sqlite")
        _ = try Replica.create(at: path, server: Fixtures.server, token: token)
        let error = try #require(throws: ClientError.self) { try Replica.open(at: path, encryptionKey: key) }
        #expect(error.message.hasPrefix("this replica is not encrypted"))
    }

    @Test func anEncryptedReplicaOpenedWithoutAKeyIsRefused() throws {
        let path = try create().path
        let error = try #require(throws: ClientError.self) { try Replica.open(at: path) }
        #expect(error.message.contains("is encrypted"))
    }

    @Test func anEncryptedReplicaOpenedWithAnotherKeyIsRefusedAndUnchanged() throws {
        let path = try create().path
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = try #require(throws: ClientError.self) {
            try Replica.open(at: path, encryptionKey: SymmetricKey(size: .bits256))
        }
        #expect(error.message.hasPrefix("wrong key or damaged replica at page 1"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try Replica.open(at: path, encryptionKey: key).settings().token == token)
    }

    // MARK: Tampering

    /// A closed replica with stories, all in its database file (the WAL checkpointed away).
    private func closedReplica(_ name: String = "replica.sqlite", key: SymmetricKey? = nil) throws -> String {
        let replica = try create(name, key: key)
        try addSecretStories(to: replica)
        for index in 0..<40 { try replica.add(.story, values: ["title": .string("Story \(index)"), "body": "…", "language": "en"]) }
        return replica.path
    }

    /// The error reading every page of the replica at `path` gives.
    private func errorReadingEverything(_ path: String) -> String? {
        do {
            let replica = try Replica.open(at: path, encryptionKey: key)
            _ = try replica.database.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
            _ = try replica.records()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [1, 2, 3, 5]) func aFlippedByteIsNamedByItsPage(page: Int) throws {
        let path = try closedReplica()
        try #require(try ReplicaFiles.pageCount(of: path) >= 5)
        try ReplicaFiles.flip(path, at: (page - 1) * 4096 + 1234)
        let message = try #require(errorReadingEverything(path))
        if page == 1 {
            #expect(message.hasPrefix("wrong key or damaged replica at page 1"))
        } else {
            #expect(message.hasPrefix("replica damaged at page \(page):"))
        }
    }

    @Test func aFlippedNonceOrTagIsNamedByItsPage() throws {
        let path = try closedReplica()
        try ReplicaFiles.flip(path, at: 2 * 4096 - 3)
        #expect(errorReadingEverything(path)?.hasPrefix("replica damaged at page 2:") == true)
    }

    @Test func swappedPagesAreNamed() throws {
        let path = try closedReplica()
        let (two, three) = (try ReplicaFiles.page(2, of: path), try ReplicaFiles.page(3, of: path))
        try ReplicaFiles.replacePage(2, of: path, with: three)
        try ReplicaFiles.replacePage(3, of: path, with: two)
        let message = try #require(errorReadingEverything(path))
        #expect(message.hasPrefix("replica damaged at page 2:") || message.hasPrefix("replica damaged at page 3:"))
    }

    @Test func aPageFromAnotherReplicaIsNamed() throws {
        let path = try closedReplica()
        let other = try closedReplica("other.sqlite", key: SymmetricKey(size: .bits256))
        try ReplicaFiles.replacePage(4, of: path, with: try ReplicaFiles.page(4, of: other))
        #expect(errorReadingEverything(path)?.hasPrefix("replica damaged at page 4:") == true)
    }

    /// A copy of an open replica's database and WAL, as a seized device holds them after a crash.
    private func copyWithWAL(lastTitle: String? = nil) throws -> (path: String, frames: Int) {
        let replica = try create()
        try addSecretStories(to: replica)
        if let lastTitle { try replica.add(.story, values: ["title": .string(lastTitle), "body": "…", "language": "en"]) }
        let copy = TemporaryDirectory.path("copy.sqlite")
        try FileManager.default.copyItem(atPath: replica.path, toPath: copy)
        try FileManager.default.copyItem(atPath: replica.path + "-wal", toPath: copy + "-wal")
        let size = try Data(contentsOf: URL(fileURLWithPath: copy + "-wal")).count
        return (copy, (size - 32) / (24 + 4096))
    }

    /// A database of two transactions left in its WAL, none checkpointed: the first of 3 small
    /// rows, the second of 4 rows bigger than a page; and the second's first frame.
    private func twoTransactionsInTheWAL(_ path: String) throws -> (database: ReplicaDatabase, secondsFirstFrame: Int) {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        let database = try ReplicaDatabase(path: path, key: key, configuration: configuration)
        try database.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            for id in 1...3 { try db.execute(sql: "INSERT INTO t VALUES (?, zeroblob(10))", arguments: [id]) }
        }
        let frames = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as! Int
        try database.write { db in
            for id in 4...7 { try db.execute(sql: "INSERT INTO t VALUES (?, randomblob(3000))", arguments: [id]) }
        }
        return (database, (frames - 32) / (24 + 4096) + 1)
    }

    private func rows(_ database: ReplicaDatabase) throws -> (integrity: [String], count: Int?) {
        try database.read { db in
            (try String.fetchAll(db, sql: "PRAGMA integrity_check"), try Int.fetchOne(db, sql: "SELECT count(*) FROM t"))
        }
    }

    /// What a crash or a power cut leaves, or a byte changed by hand, in a frame of the last
    /// transaction, read when the WAL is recovered (a copy of the files, as after a crash): the log
    /// ends there, as a plaintext WAL's does at a frame whose checksum fails; the transaction
    /// before it is all there, and nothing is read as garbage. A power cut can put the commit
    /// frame on disk and not an earlier frame's page: the replica must still open.
    @Test(arguments: ["page zeroed by a power cut", "byte flipped", "header moved to another page"])
    func aFrameThatFailsInRecoveryEndsTheLogThere(damage: String) throws {
        let path = TemporaryDirectory.path("two.sqlite")
        let (database, frame) = try twoTransactionsInTheWAL(path)
        #expect(try rows(database).count == 7)
        let copy = TemporaryDirectory.path("two-copy.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        let start = 32 + (frame - 1) * (24 + 4096)
        switch damage {
        case "page zeroed by a power cut":
            let wal = URL(fileURLWithPath: copy + "-wal")
            var bytes = try Data(contentsOf: wal)
            bytes.replaceSubrange((start + 24)..<(start + 24 + 4096), with: Data(count: 4096))
            try bytes.write(to: wal)
        case "byte flipped": try ReplicaFiles.flip(copy + "-wal", at: start + 24 + 100)
        default: try ReplicaFiles.flip(copy + "-wal", at: start + 3, mask: 0x07)
        }
        let recovered = try rows(ReplicaDatabase(path: copy, key: key, configuration: Configuration()))
        #expect(recovered.integrity == ["ok"])
        #expect(recovered.count == 3)
    }

    /// A frame changed under a replica that is open (its WAL index already built) is read as a
    /// page a connection asks for, and named.
    @Test func aFrameChangedUnderAnOpenReplicaIsNamed() throws {
        let path = TemporaryDirectory.path("two.sqlite")
        let (database, frame) = try twoTransactionsInTheWAL(path)
        try ReplicaFiles.flip(path + "-wal", at: 32 + (frame - 1) * (24 + 4096) + 24 + 100)
        let message = "\(try #require(throws: (any Error).self) { try rows(ReplicaDatabase(path: path, key: key, configuration: Configuration())) })"
        #expect(message.hasPrefix("replica damaged at page "))
        #expect(message.contains("(frame \(frame) of its write-ahead log)"))
        withExtendedLifetime(database) {}
    }

    /// A power cut while a checkpoint writes page 1 can tear it; its WAL still holds it whole,
    /// so SQLite opens the database (its first read of page 1, before any lock, is only for the
    /// page size), and so must the VFS.
    @Test func aPageOneTornDuringACheckpointOpensFromTheWAL() throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        let path = TemporaryDirectory.path("torn.sqlite")
        let database = try ReplicaDatabase(path: path, key: key, configuration: configuration)
        try database.write { db in try db.execute(sql: "CREATE TABLE t (x)") }
        _ = try database.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        try database.write { db in try db.execute(sql: "CREATE TABLE u (y)") }  // Page 1 changes.
        let wal = try Data(contentsOf: URL(fileURLWithPath: path + "-wal"))
        _ = try database.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        // Its first sector written, the rest not: page 1 fails authentication.
        let torn = after.prefix(512) + before[512..<4096] + after.dropFirst(4096)
        let copy = TemporaryDirectory.path("torn-copy.sqlite")
        try torn.write(to: URL(fileURLWithPath: copy))
        try wal.write(to: URL(fileURLWithPath: copy + "-wal"))
        let reopened = try ReplicaDatabase(path: copy, key: key, configuration: Configuration())
        let tables = try reopened.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master ORDER BY name") }
        #expect(tables == ["t", "u"])
    }

    /// A crash between a frame's header and its page leaves a torn tail, which SQLite drops as it
    /// would from a plaintext WAL: the transactions before it are all there.
    @Test func aTornLastFrameIsDroppedAndTheRestReads() throws {
        let (copy, frames) = try copyWithWAL(lastTitle: "Written as the device died")
        let wal = URL(fileURLWithPath: copy + "-wal")
        var bytes = try Data(contentsOf: wal)
        let lastPage = 32 + (frames - 1) * (24 + 4096) + 24
        bytes.replaceSubrange(lastPage..<(lastPage + 4096), with: Data(count: 4096))
        try bytes.write(to: wal)
        #expect(errorReadingEverything(copy) == nil)
        let replica = try Replica.open(at: copy, encryptionKey: key)
        // The last transaction is gone with its frame; the stories before it are there.
        #expect(try replica.records(.story).count == 2)
        #expect(try replica.search(SearchQuery("Yanji")).count == 1)
    }

    /// A transaction bigger than the page cache spills pages to the WAL and writes some of them
    /// again; SQLite then writes the frames after those with zero salts and fills them in at
    /// commit, by header alone. Every page must open afterwards, and the checksums SQLite
    /// computed must be those of the plaintext, or recovery after a crash drops the transaction.
    @Test func aTransactionBiggerThanThePageCacheCommitsAndSurvivesACrash() throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = 8; PRAGMA wal_autocheckpoint = 0") }
        let path = TemporaryDirectory.path("spill.sqlite")
        let database = try ReplicaDatabase(path: path, key: key, configuration: configuration)
        let rows = 600
        try database.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            for id in 1...rows { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [id, String(repeating: "a", count: 500)]) }
            // Written again after they were spilled: SQLite rewrites their frames in place.
            try db.execute(sql: "UPDATE t SET body = ? || id", arguments: [String(repeating: "b", count: 400)])
            for id in stride(from: 1, through: rows, by: 7) {
                try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [rows + id, String(repeating: "c", count: 300)])
            }
        }
        func check(_ database: ReplicaDatabase) throws {
            let (integrity, count, body) = try database.read { db in
                (
                    try String.fetchAll(db, sql: "PRAGMA integrity_check"), try Int.fetchOne(db, sql: "SELECT count(*) FROM t"),
                    try String.fetchOne(db, sql: "SELECT body FROM t WHERE id = 5")
                )
            }
            #expect(integrity == ["ok"])
            #expect(count == rows + (rows + 6) / 7)
            #expect(body == String(repeating: "b", count: 400) + "5")
        }
        try check(database)
        // The device dies now: the WAL holds every frame of the transaction, none checkpointed.
        let copy = TemporaryDirectory.path("spill-copy.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        try check(ReplicaDatabase(path: copy, key: key, configuration: Configuration()))
    }
}
