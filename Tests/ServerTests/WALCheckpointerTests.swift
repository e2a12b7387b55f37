import Foundation
import GRDB
@testable import HavenServer
import Testing
import TestSupport

/// The store's SQLite file: the WAL is copied into the database file by the checkpointer's own
/// connection while the store runs, and by the writer itself only past its bound, so the file
/// ends up holding what was committed and the WAL does not grow without end; commits are synced
/// in full; a new file has pages of 16 KiB.
@Suite struct WALCheckpointerTests {
    /// 400 KiB: 25 WAL pages of 16 KiB.
    static let value = String(repeating: "0123456789abcdef", count: 25_600)

    @Test func aCommitPastTheWakeSizeIsCheckpointedByTheCheckpointerNotTheWriter() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("server.sqlite").path
        // Five commits of about 1.2 MB of WAL each (a new 400 KiB value, the old one's pages
        // zeroed) would pass the writer's bound of 4 MB without the checkpointer.
        let checkpointer = WALCheckpointer(wakeBytes: 100_000, writerBytes: 4_000_000)
        let store = try SQLiteSyncStore(path: path, checkpointer: checkpointer)
        try await store.withRunning {
            // Its first pass, at the start, shows that commits now wake it.
            try await Polling.until("the checkpointer's first pass") { () async in checkpointer.passes >= 1 }
            for commit in 1...5 {
                // Other bytes each time: SQLite writes only the pages of a value that changed.
                let value = String(repeating: "\(commit)", count: 400 << 10)
                try await write(value, into: store)
                try await Polling.until("a checkpoint woken by commit \(commit)") { () async in checkpointer.passes >= commit + 1 }
                #expect(try fileAlone(at: path, in: directory) == value)
            }
            #expect(checkpointer.writerCheckpoints == 0)
        }
    }

    @Test func withoutTheCheckpointerTheWriterCheckpointsPastItsBound() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("server.sqlite").path
        let checkpointer = WALCheckpointer(wakeBytes: 100_000, writerBytes: 300_000)
        // Not running: no checkpointer connection, as for a store no service runs.
        let store = try SQLiteSyncStore(path: path, checkpointer: checkpointer)
        let before = checkpointer.writerCheckpoints  // Creating the schema may have passed the bound too.
        try await write(Self.value, into: store)
        #expect(checkpointer.writerCheckpoints == before + 1)
        #expect(checkpointer.passes == 0)
        #expect(try fileAlone(at: path, in: directory) == Self.value)
        try store.close()
    }

    /// GRDB sets NORMAL on the writer as it turns WAL on: a commit would survive a crash but
    /// not a power cut.
    @Test func theWriterCommitsWithSynchronousFull() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteSyncStore(path: directory.url.appendingPathComponent("server.sqlite").path)
        #expect(try await store.database.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        try store.close()
    }

    @Test func aNewDatabaseHasPagesOf16KiBAndAnOlderOneKeepsItsOwn() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("server.sqlite").path
        let new = try SQLiteSyncStore(path: path)
        #expect(try await new.database.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == 16384)
        try new.close()

        let olderPath = directory.url.appendingPathComponent("older.sqlite").path
        let older = try DatabaseQueue(path: olderPath)
        try await older.write { db in try db.execute(sql: "CREATE TABLE made_before (x)") }
        try older.close()
        let opened = try SQLiteSyncStore(path: olderPath)
        #expect(try await opened.database.read { try Int.fetchOne($0, sql: "PRAGMA page_size") } == 4096)
        try opened.close()
    }

    private func write(_ value: String, into store: SQLiteSyncStore) async throws {
        try await store.database.write { db in
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('test', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [value])
        }
    }

    /// The test value as the database file holds it without its WAL: what has been checkpointed.
    private func fileAlone(at path: String, in directory: TemporaryDirectory) throws -> String? {
        let copy = directory.url.appendingPathComponent("copy-\(UUID().uuidString).sqlite").path
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let queue = try DatabaseQueue(path: copy)
        defer { try? queue.close() }
        return try queue.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'test'") }
    }
}
