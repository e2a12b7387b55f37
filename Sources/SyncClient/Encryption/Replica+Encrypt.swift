import Crypto
import Foundation
import GRDB
import HavenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Converting a plaintext replica into an encrypted one, in place (`haven encrypt`).
///
/// A kill at any instant leaves a replica that opens: the old plaintext one (without a key)
/// until the rename, the encrypted one (with the key) after it. The steps:
/// 1. `copied`: the plaintext replica is checkpointed and copied, page by page through the
///    encrypted VFS, into `PATH.encrypting` (`VACUUM INTO`, with 28 reserved bytes per page).
/// 2. `sealed`: the copy is switched to WAL mode while it is not yet in place (the only rollback
///    journal an encrypted file ever has, held in memory), and flushed to disk.
/// 3. `oldLogRemoved`: the plaintext `-wal`, `-shm` and `-journal` are removed: checkpointed,
///    they hold nothing the file lacks, and a plaintext WAL beside the encrypted file would be
///    read as damage.
/// 4. `oldLinked`: the plaintext file gets a second name, `PATH.plaintext`, so that it can be
///    overwritten after the rename.
/// 5. `renamed`: `PATH.encrypting` is renamed over `PATH`, and the directory flushed.
/// 6. `PATH.plaintext` is overwritten with zeros and removed. As with `haven wipe`, overwriting
///    guarantees nothing on flash storage: the old blocks stay until the device erases them.
///
/// Running it again after a crash, or opening the replica with its key, finishes the clean-up
/// (``removeEncryptionLeftovers(of:)``). No other process may use the replica meanwhile: its
/// changes after step 1 would be lost, and step 3 refuses a WAL that grew since.
extension Replica {
    /// The steps of ``encryptInPlace(path:key:)``, for tests that stop after each one.
    enum EncryptionStep: CaseIterable { case copied, sealed, oldLogRemoved, oldLinked, renamed }

    /// Encrypts the plaintext replica at `path` with the data key `key`, in place and crash-safe.
    ///
    /// For example:
    /// ```swift
    /// let key = SymmetricKey(size: .bits256)  // then wrap it with the passphrase and keep it
    /// try Replica.encryptInPlace(path: path, key: key)
    /// let replica = try Replica.open(at: path, encryptionKey: key)
    /// ```
    ///
    /// - Throws: ``ClientError`` when there is no replica at `path`, it is already encrypted,
    ///   it is not a replica, or another process is writing to it; the replica is then unchanged.
    public static func encryptInPlace(path: String, key: SymmetricKey) throws {
        try encryptInPlace(path: path, key: key, stoppingAfter: nil)
    }

    /// Whether the file at `path` is an encrypted replica (it does not start as SQLite does);
    /// nil when there is no file or it cannot be read.
    public static func isEncrypted(at path: String) -> Bool? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let start = try? handle.read(upToCount: EncryptedFile.plainHeader.count) else { return nil }
        if start.isEmpty { return nil }  // Empty: neither yet.
        return !start.elementsEqual(EncryptedFile.plainHeader)
    }

    struct StoppedForTest: Error {}

    static func encryptInPlace(path: String, key: SymmetricKey, stoppingAfter stop: EncryptionStep?) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw ClientError.noReplica(path) }
        removeEncryptionLeftovers(of: path)
        if isEncrypted(at: path) == true { throw ClientError(Words("\(path) is already encrypted", korean: "\(path): 이미 암호화되어 있습니다")) }
        let vfs = try EncryptedVFS.forKey(key)
        do {
            try convert(path, vfs: vfs, stoppingAfter: stop)
        } catch let error where !(error is StoppedForTest) {
            removeEncryptionLeftovers(of: path)
            throw error
        }
    }

    private static func convert(_ path: String, vfs: EncryptedVFS, stoppingAfter stop: EncryptionStep?) throws {
        let copy = path + ".encrypting", plaintext = path + ".plaintext"
        func done(_ step: EncryptionStep) throws { if step == stop { throw StoppedForTest() } }
        try copyEncrypted(from: path, to: copy, vfs: vfs)
        try done(.copied)
        try switchToWAL(copy, vfs: vfs)
        try flush(copy)
        try done(.sealed)
        for file in companionFiles(of: path).dropFirst() {
            if file.hasSuffix("-wal"), let size = fileSize(file), size > 0 {
                throw ClientError(
                    Words(
                        "another process is writing to \(path): close it, then run this again",
                        korean: "다른 프로세스가 \(path)에 쓰고 있습니다: 그것을 닫은 뒤 다시 실행하세요"))
            }
            unlink(file)
        }
        try done(.oldLogRemoved)
        guard link(path, plaintext) == 0 else { throw posixError(Words("cannot link \(path) to \(plaintext)", korean: "링크할 수 없습니다: \(path) → \(plaintext)")) }
        try done(.oldLinked)
        guard rename(copy, path) == 0 else { throw posixError(Words("cannot rename \(copy) to \(path)", korean: "이름을 바꿀 수 없습니다: \(copy) → \(path)")) }
        try flush(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        try done(.renamed)
        removeEncryptionLeftovers(of: path)
    }

    /// Removes what a conversion stopped midway left: the unfinished copy, and the old plaintext
    /// file, overwritten first unless it is still the replica itself.
    static func removeEncryptionLeftovers(of path: String) {
        let copy = path + ".encrypting", plaintext = path + ".plaintext"
        for file in companionFiles(of: copy) { unlink(file) }
        guard let leftover = fileIdentity(of: plaintext) else { return }
        if leftover != fileIdentity(of: path) {
            _ = zeroFill(plaintext, until: ContinuousClock.now + .seconds(10), clock: ContinuousClock())
        }
        unlink(plaintext)
    }

    /// Step 1: `VACUUM INTO` the copy, through the VFS, with room for the nonce and tag.
    private static func copyEncrypted(from path: String, to copy: String, vfs: EncryptedVFS) throws {
        let source = try DatabaseQueue(path: path)
        defer { try? source.close() }
        try source.writeWithoutTransaction { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            guard tables.contains("outbox") else { throw ClientError(
                    Words(
                        "\(path) is not a Haven replica: nothing was changed",
                        korean: "\(path): Haven 복제본이 아닙니다. 아무것도 바꾸지 않았습니다")) }
            guard try Int.fetchOne(db, sql: "PRAGMA page_size") == PageCipher.pageSize else {
                throw ClientError(
                    Words(
                        "\(path) has pages of another size than \(PageCipher.pageSize) bytes: it cannot be encrypted",
                        korean: "\(path): 쪽 크기가 \(PageCipher.pageSize)바이트가 아니어서 암호화할 수 없습니다"))
            }
            // Sorts and temporary indices of the copy stay in memory, not in plaintext under /tmp.
            try db.execute(sql: "PRAGMA temp_store = MEMORY; PRAGMA wal_checkpoint(TRUNCATE)")
            // The reserve SQLite wants for this database, which VACUUM INTO gives the copy.
            try ReplicaDatabase.setReservedBytes(db)
            let descriptor = Glibc.open(copy, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, fileMode)
            guard descriptor >= 0 else { throw posixError(Words("cannot create \(copy)", korean: "만들 수 없습니다: \(copy)")) }
            close(descriptor)
            try db.execute(sql: "VACUUM INTO ?", arguments: [ReplicaDatabase.uri(copy, vfs: vfs.name)])
        }
    }

    /// Step 2: WAL mode, as every replica has, set before the copy is in place.
    private static func switchToWAL(_ copy: String, vfs: EncryptedVFS) throws {
        var configuration = Configuration()
        configuration.prepareDatabase(ReplicaDatabase.prepareEncrypted)
        let queue = try DatabaseQueue(path: ReplicaDatabase.uri(copy, vfs: vfs.name), configuration: configuration)
        defer { try? queue.close() }
        try queue.writeWithoutTransaction { db in
            guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal",
                try String.fetchOne(db, sql: "PRAGMA quick_check") == "ok"
            else { throw ClientError(
                    Words(
                        "the encrypted copy of the replica does not check out: nothing was changed",
                        korean: "복제본의 암호화된 사본이 검사를 통과하지 못했습니다: 아무것도 바꾸지 않았습니다")) }
        }
    }

    /// Flushes a file or directory to disk.
    private static func flush(_ path: String) throws {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw posixError(Words("cannot open \(path)", korean: "열 수 없습니다: \(path)")) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw posixError(Words("cannot flush \(path)", korean: "디스크에 기록할 수 없습니다: \(path)")) }
    }

    private static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    private static func posixError(_ what: Words) -> ClientError {
        let reason = String(cString: strerror(errno))
        return ClientError(Words("\(what.english): \(reason)", korean: "\(what.korean): \(reason)"))
    }
}
