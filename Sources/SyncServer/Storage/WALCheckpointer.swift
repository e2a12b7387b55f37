import GRDB
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log into the database file on a connection of its own, so that the
/// single writer, which every push waits for, does not.
///
/// SQLite's own automatic checkpoint runs in the transaction that commits past 1,000 WAL pages
/// (4 MiB of 4 KiB pages): with pushes of a few megabytes, nearly every push copied its pages a
/// second time, and `fsync`ed the file, before the writer could take the next one. Here the
/// writer's commit only wakes this checkpointer, which runs SQLite's passive checkpoint (the same
/// as the automatic one: it never blocks the writer or readers) on the other core. Five pushes
/// of 10,500 records each way took 2.00 s against 2.31 s.
///
/// Should the checkpointer fall behind, or not run (a store whose ``SQLiteSyncStore/run()`` has
/// not started), the writer checkpoints itself once the WAL holds ``writerBytes``, as SQLite's
/// automatic checkpoint would: the WAL stays bounded either way.
final class WALCheckpointer: Sendable {
    /// WAL bytes after which a commit wakes the checkpointer: what SQLite's automatic checkpoint
    /// waits for by default.
    let wakeBytes: Int
    /// WAL bytes after which the writer checkpoints in its own commit.
    let writerBytes: Int

    private struct State {
        var pageSize = 4096
        var wakeups: AsyncStream<Void>.Continuation?
        var passes = 0
        var writerCheckpoints = 0
    }
    private let state = Mutex(State())

    init(wakeBytes: Int = 4 << 20, writerBytes: Int = 64 << 20) {
        self.wakeBytes = wakeBytes
        self.writerBytes = writerBytes
    }

    /// Checkpoints the checkpointer completed so far (for tests).
    var passes: Int { state.withLock { $0.passes } }
    /// Checkpoints the writer completed in its own commit so far (for tests).
    var writerCheckpoints: Int { state.withLock { $0.writerCheckpoints } }

    /// Makes `db`'s commits report the WAL's size here, in place of SQLite's automatic
    /// checkpoint (which is SQLite's own WAL hook). Readers never commit, so every connection
    /// may have it.
    func install(on db: Database) throws {
        // The hook counts pages: every connection to the file has the same size.
        let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
        state.withLock { $0.pageSize = pageSize }
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, connection, name, pages in
                let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context!).takeUnretainedValue()
                checkpointer.committed(pages: pages, connection: connection, name: name)
                return SQLITE_OK
            },
            Unmanaged.passUnretained(self).toOpaque())
    }

    private func committed(pages: Int32, connection: OpaquePointer?, name: UnsafePointer<CChar>?) {
        let bytes = Int(pages) * state.withLock { $0.pageSize }
        if bytes >= writerBytes {
            if sqlite3_wal_checkpoint_v2(connection, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_OK {
                state.withLock { $0.writerCheckpoints += 1 }
            }
        } else if bytes >= wakeBytes {
            _ = state.withLock { $0.wakeups?.yield() }
        }
    }

    /// Checkpoints on a connection of its own to the database at `path` once at the start, then
    /// each time a commit wakes it, until cancelled. A connection that cannot be opened (the
    /// file busy with recovery after a crash) is tried again every second meanwhile: the writer's
    /// own checkpoint keeps the WAL bounded until then.
    func run(path: String) async {
        while !Task.isCancelled {
            do {
                return try await checkpoint(path: path)
            } catch {
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func checkpoint(path: String) async throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? connection.close() }
        // One wake-up is kept while a checkpoint runs: the next copies all that came meanwhile.
        let (wakeups, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.wakeups = continuation }
        defer { state.withLock { $0.wakeups = nil } }
        // A first pass takes what the WAL holds from before: commits while no one was woken.
        continuation.yield()
        await withTaskCancellationHandler {
            for await _ in wakeups {
                // A passive checkpoint waits for nothing. One that fails (the writer checkpointing
                // at that moment) is left to the next pass, or to the writer's own checkpoint.
                if (try? await connection.writeWithoutTransaction({ db in try db.checkpoint(.passive) })) != nil {
                    state.withLock { $0.passes += 1 }
                }
            }
        } onCancel: {
            continuation.finish()
        }
    }
}
