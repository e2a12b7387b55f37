import Crypto
import Foundation
import GRDBSQLite
import Synchronization
import HavenCore

/// A SQLite VFS that keeps a replica encrypted at rest, registered once per data key under a name
/// that says nothing of the key (`haven-aead-N`), and opened as `file:PATH?vfs=NAME`.
///
/// It wraps the default ("unix") VFS and decides by the role SQLite gives each file it opens:
/// 1. The main database: every page sealed (EncryptedFile.swift, PageCipher.swift).
/// 2. The WAL: its 32-byte header plain, each frame's page sealed, each frame header's checksum
///    words masked (EncryptedFile+WAL.swift).
/// 3. The `-shm` wal-index is not opened through `xOpen`: SQLite maps it through the database
///    file's `xShmMap`, passed through to the unix VFS. What it holds in the clear, while the
///    replica is open and after a crash until the next open truncates it: two copies of the WAL
///    index header (change counter, page size, the last valid frame's number, the database size
///    in pages, the WAL salts, and the running checksum of the last frame, which SQLite computes
///    over plaintext and which this VFS cannot mask: 64 bits derived from content), checkpoint
///    progress and read marks (frame numbers), and hash tables of page numbers by frame. No page
///    content. The unix VFS deletes it when the last connection closes cleanly.
/// 4. Everything else (temporary databases, statement and sub-journals, sorter spill files,
///    super-journals, and the rollback journal): held in memory (MemoryFile.swift), never
///    written to disk. Logging every `xOpen` over the client tests showed two rollback
///    journals only: one when a new replica, still empty, switches to WAL (`PRAGMA journal_mode
///    = WAL` journals its nothing), and one for the copy `encryptInPlace` makes, before it is
///    renamed into place (Replica+Encrypt.swift). Neither protects data a crash could lose, so
///    memory is enough; a replica in WAL mode never opens one again, which
///    `EncryptedReplicaTests.aReplicaOpensARollbackJournalOnlyWhileEmpty` counts.
///
/// What it does not stop: someone holding the device who kept an older copy of the files can put
/// back an older sealed page in its place, or an older WAL, or cut the WAL short; each opens,
/// as an older state of the replica. Catching that needs a counter kept off the device. What
/// the replica shows as published is still checked against the publisher's signature
/// (`haven verify`), and the next sync brings the server's state back.
final class EncryptedVFS: Sendable {
    let name: String
    let cipher: PageCipher
    nonisolated(unsafe) let underlying: UnsafeMutablePointer<sqlite3_vfs>
    nonisolated(unsafe) private(set) var registered: UnsafeMutablePointer<sqlite3_vfs>!
    private let lastDamage = Mutex<ReplicaDamage?>(nil)
    private let journalOpens = Atomic<Int>(0)

    /// Bytes before the unix VFS's own file structure in ours: `sqlite3_file` and our context.
    static let fileHeaderSize = 16

    private init(name: String, cipher: PageCipher, underlying: UnsafeMutablePointer<sqlite3_vfs>) {
        self.name = name
        self.cipher = cipher
        self.underlying = underlying
    }

    private static let registry = Mutex<(byKey: [Data: EncryptedVFS], count: Int)>(([:], 0))

    /// The VFS for `key`, registered on first use and kept for the life of the process (SQLite
    /// holds a pointer to it; a key opened once is opened again by later replicas).
    static func forKey(_ key: SymmetricKey) throws -> EncryptedVFS {
        guard key.bitCount == 256 else { throw ClientError(Words("the replica's data key must be 32 bytes", korean: "복제본의 데이터 키는 32바이트여야 합니다")) }
        // An id for the registry that reveals nothing of the key.
        let id = Data(HMAC<SHA256>.authenticationCode(for: Data("haven vfs registry".utf8), using: key))
        return try registry.withLock { registry in
            if let vfs = registry.byKey[id] { return vfs }
            guard let unix = sqlite3_vfs_find(nil) else { throw ClientError(Words("SQLite has no default VFS", korean: "SQLite에 기본 VFS가 없습니다")) }
            registry.count += 1
            let vfs = EncryptedVFS(name: "haven-aead-\(registry.count)", cipher: PageCipher(dataKey: key), underlying: unix)
            vfs.registered = vfs.makeStructure()
            guard sqlite3_vfs_register(vfs.registered, 0) == SQLITE_OK else {
                throw ClientError(
                    Words(
                        "could not register the replica's encryption with SQLite",
                        korean: "복제본의 암호화를 SQLite에 등록하지 못했습니다"))
            }
            registry.byKey[id] = vfs
            return vfs
        }
    }

    /// The context a `sqlite3_vfs` of ours points to.
    static func from(_ vfs: UnsafeMutablePointer<sqlite3_vfs>?) -> EncryptedVFS {
        Unmanaged<EncryptedVFS>.fromOpaque(vfs!.pointee.pAppData).takeUnretainedValue()
    }

    /// Records why a read failed, for ``error(for:)``.
    func report(_ damage: ReplicaDamage) { lastDamage.withLock { $0 = damage } }

    /// The damage behind a SQLite I/O error from this VFS, as a ``ClientError``; nil for other errors.
    func damage(behind code: Int32) -> ClientError? {
        switch (code, lastDamage.withLock { $0 }) {
        case (SQLiteCode.writeError, .layout(let detail)?): ReplicaDamage.layout(detail).error
        case (SQLiteCode.dataError, let damage?): damage.error
        // Every read that fails authentication reports its damage first; this is a safety net.
        case (SQLiteCode.dataError, nil): ClientError(
                Words(
                    "the replica is damaged: restore it from a backup, or wipe it and sync again",
                    korean: "복제본이 손상되었습니다: 백업에서 되살리거나, 지운 뒤 다시 동기화하세요"))
        default: nil
        }
    }

    /// How many rollback journals this VFS has opened (held in memory), for tests.
    var rollbackJournalsOpened: Int { journalOpens.load(ordering: .relaxed) }
    func countJournalOpen() { journalOpens.add(1, ordering: .relaxed) }

    private func makeStructure() -> UnsafeMutablePointer<sqlite3_vfs> {
        let vfs = UnsafeMutablePointer<sqlite3_vfs>.allocate(capacity: 1)
        vfs.initialize(to: sqlite3_vfs())
        vfs.pointee.iVersion = 2
        vfs.pointee.szOsFile = Int32(Self.fileHeaderSize) + underlying.pointee.szOsFile
        vfs.pointee.mxPathname = underlying.pointee.mxPathname
        vfs.pointee.zName = UnsafePointer(strdup(name))
        vfs.pointee.pAppData = Unmanaged.passUnretained(self).toOpaque()
        vfs.pointee.xOpen = { vfs, name, file, flags, outFlags in
            EncryptedVFS.from(vfs).open(name, file!, flags, outFlags)
        }
        vfs.pointee.xDelete = { vfs, name, sync in
            let unix = EncryptedVFS.from(vfs).underlying
            let result = unix.pointee.xDelete(unix, name, sync)
            // A rollback journal held in memory was never on disk: it is gone all the same.
            return result == SQLiteCode.deleteNoEntry ? SQLITE_OK : result
        }
        vfs.pointee.xAccess = { vfs, name, flags, result in
            let unix = EncryptedVFS.from(vfs).underlying
            return unix.pointee.xAccess(unix, name, flags, result)
        }
        vfs.pointee.xFullPathname = { vfs, name, count, out in
            let unix = EncryptedVFS.from(vfs).underlying
            return unix.pointee.xFullPathname(unix, name, count, out)
        }
        vfs.pointee.xRandomness = { vfs, count, out in
            let unix = EncryptedVFS.from(vfs).underlying
            return unix.pointee.xRandomness(unix, count, out)
        }
        vfs.pointee.xSleep = { vfs, microseconds in
            let unix = EncryptedVFS.from(vfs).underlying
            return unix.pointee.xSleep(unix, microseconds)
        }
        vfs.pointee.xCurrentTime = { vfs, out in
            let unix = EncryptedVFS.from(vfs).underlying
            return unix.pointee.xCurrentTime(unix, out)
        }
        vfs.pointee.xGetLastError = { vfs, count, out in
            let unix = EncryptedVFS.from(vfs).underlying
            return unix.pointee.xGetLastError(unix, count, out)
        }
        vfs.pointee.xCurrentTimeInt64 = { vfs, out in
            let unix = EncryptedVFS.from(vfs).underlying
            return unix.pointee.xCurrentTimeInt64(unix, out)
        }
        return vfs
    }

    /// `xOpen`: the database and its WAL through the unix VFS, sealed; everything else in memory.
    private func open(
        _ name: UnsafePointer<CChar>?, _ file: UnsafeMutablePointer<sqlite3_file>, _ flags: Int32,
        _ outFlags: UnsafeMutablePointer<Int32>?
    ) -> Int32 {
        file.pointee.pMethods = nil
        let role: EncryptedFile.Role
        if flags & SQLITE_OPEN_MAIN_DB != 0 {
            role = .database
        } else if flags & SQLITE_OPEN_WAL != 0 {
            role = .wal
        } else {
            if flags & SQLITE_OPEN_MAIN_JOURNAL != 0 { countJournalOpen() }
            return MemoryFile.open(file, flags, outFlags)
        }
        let inner = EncryptedFile.underlyingFile(of: file)
        let result = underlying.pointee.xOpen(underlying, name, inner, flags, outFlags)
        guard result == SQLITE_OK else { return result }
        EncryptedFile.attach(EncryptedFile(vfs: self, role: role, inner: inner), to: file)
        return SQLITE_OK
    }
}
