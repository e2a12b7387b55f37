import Foundation
import GRDB
import HavenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Destroying a replica at once, for a device in danger (DESIGN §5).
///
/// A wipe follows five rules:
/// 0. An encrypted replica's key file is destroyed first, overwritten and flushed
///    (Encryption/ReplicaKeyFile.swift): from then on its pages are noise, wherever they linger.
/// 1. It counts what it destroys first (records, unsent changes), from a read-only connection;
///    a file it cannot read is destroyed all the same, its counts unknown.
/// 2. It overwrites the replica file and the files beside it (`-wal`, `-shm`, `-journal`) with
///    zeros and flushes them, while time allows, then unlinks them whatever happened before.
/// 3. It removes the directories `haven init` created for the replica, and only when empty:
///    a directory that holds anything else stays.
/// 4. It refuses a SQLite database that is not a replica (a server's database, say), so that a
///    mistyped `--replica` cannot destroy one.
///
/// Overwriting defeats reading the freed blocks back through the file system on a disk that
/// rewrites in place. It guarantees nothing on flash storage or on copy-on-write and
/// log-structured file systems, which write the zeros to new blocks and leave the old ones
/// until they are erased: only encrypting the replica and destroying its key (rule 0) does.
extension Replica {
    /// What a wipe of the replica at `path` would destroy; nothing is changed.
    ///
    /// - Throws: ``ClientError`` when the file is a SQLite database but not a replica.
    public static func wipeInventory(at path: String) throws -> WipeInventory {
        var inventory = WipeInventory(replica: path, files: wipedFiles(of: path).filter(exists))
        if hasKeyFile(at: path) {
            // Nothing in it can be counted without the passphrase, which a wipe never asks.
            inventory.files.insert(ReplicaKeyFile.path(beside: path), at: 0)
            inventory.encrypted = true
            inventory.readable = false
            inventory.createdDirectory = (try? ReplicaKeyFile.read(beside: path))?.createdDirectory
            return inventory
        }
        guard exists(path) else { return inventory }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            try queue.read { db in
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                if tables.isEmpty { return }
                guard tables.contains("outbox") else {
                    throw ClientError(
                        Words(
                            "\(path) is a SQLite database but not a Haven replica: nothing was wiped",
                            korean: "\(path): SQLite 데이터베이스이지만 Haven 복제본이 아닙니다. 아무것도 지우지 않았습니다"))
                }
                inventory.records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records WHERE deleted = 0")
                inventory.unsentChanges = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox")
                inventory.createdDirectory = try String.fetchOne(
                    db, sql: "SELECT value FROM meta WHERE key = ?",
                    arguments: [ReplicaSettings.Key.createdDirectory.rawValue])
            }
        } catch let error as ClientError {
            throw error
        } catch {
            // Rule 1: unreadable or corrupt, it goes all the same.
            inventory.readable = false
        }
        return inventory
    }

    /// Overwrites and removes the replica at `path` and everything beside it.
    ///
    /// - Parameters:
    ///   - path: the replica file.
    ///   - overwriteBudget: how long overwriting may take before the files are unlinked
    ///     without finishing it.
    /// - Returns: what was destroyed, counted before.
    /// - Throws: ``ClientError`` when the file is not a replica, or a file could not be removed.
    @discardableResult
    public static func wipe(at path: String, overwriteBudget: Duration = .milliseconds(1_000)) throws -> WipeReport {
        let clock = ContinuousClock()
        let start = clock.now
        let inventory = try wipeInventory(at: path)
        let keyFile = inventory.encrypted && ReplicaKeyFile.destroy(beside: path) ? [ReplicaKeyFile.path(beside: path)] : []
        // Listed again: the read-only connection may have left a -shm behind.
        let files = wipedFiles(of: path).filter(exists)
        let deadline = start + overwriteBudget
        var overwritten = true
        for file in files where !zeroFill(file, until: deadline, clock: clock) { overwritten = false }
        var failures: [String] = []
        for file in files where unlink(file) != 0 && errno != ENOENT {
            failures.append("\(file): \(String(cString: strerror(errno)))")
        }
        guard failures.isEmpty else {
            let files = failures.joined(separator: "; ")
            throw ClientError(Words("could not remove \(files)", korean: "지우지 못했습니다: \(files)"))
        }
        let directories = removeCreatedDirectories(of: path, createdDirectory: inventory.createdDirectory)
        let elapsed = clock.now - start
        return WipeReport(
            replica: path, removedFiles: keyFile + files, removedDirectories: directories, encrypted: inventory.encrypted,
            records: inventory.records,
            unsentChanges: inventory.unsentChanges, overwritten: overwritten && !files.isEmpty,
            milliseconds: Int(
                elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000))
    }

    /// The replica file and the files SQLite keeps beside it.
    static func companionFiles(of path: String) -> [String] {
        [path, path + "-wal", path + "-journal", path + "-shm"]
    }

    /// What a wipe removes: the replica's files, and what a `haven encrypt` cut short leaves
    /// (Encryption/Replica+Encrypt.swift).
    static func wipedFiles(of path: String) -> [String] {
        companionFiles(of: path) + companionFiles(of: path + ".encrypting") + [path + ".plaintext"]
    }

    /// The highest directory `create` makes for a replica at `path`, if it makes one.
    static func firstMissingDirectory(above path: String) -> String? {
        var missing: String?
        var directory = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL
        while directory.path != "/" && !exists(directory.path) {
            missing = directory.path
            directory = directory.deletingLastPathComponent().standardizedFileURL
        }
        return missing
    }

    private static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Rule 3: the replica's directory and its parents up to the one `create` made, each only if
    /// empty; else, for replicas that did not record it, the default `.haven` directory if empty.
    private static func removeCreatedDirectories(of path: String, createdDirectory: String?) -> [String] {
        var directory = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL
        let top = createdDirectory.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        var removed: [String] = []
        if let top, directory.path == top || directory.path.hasPrefix(top + "/") {
            while rmdir(directory.path) == 0 {
                removed.append(directory.path)
                if directory.path == top { break }
                directory = directory.deletingLastPathComponent()
            }
        } else if top == nil, directory.lastPathComponent == ".haven", rmdir(directory.path) == 0 {
            removed.append(directory.path)
        }
        return removed
    }
}

/// Writes zeros over a regular file's length and flushes it; false when it could not finish.
func zeroFill(_ path: String, until deadline: ContinuousClock.Instant, clock: ContinuousClock) -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
    let descriptor = open(path, O_WRONLY)
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    let zeros = [UInt8](repeating: 0, count: 1 << 20)
    var offset: off_t = 0
    while offset < info.st_size {
        if clock.now > deadline { return false }
        let count = Int(min(off_t(zeros.count), info.st_size - offset))
        let written = zeros.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, count, offset) }
        guard written > 0 else { return false }
        offset += off_t(written)
    }
    return fsync(descriptor) == 0
}

/// What a wipe would destroy.
public struct WipeInventory: Sendable, Hashable, Codable {
    /// The replica file's path.
    public var replica: String
    /// The files that exist: the replica and those beside it.
    public var files: [String]
    /// Whether the replica is encrypted: its key file is destroyed first, and nothing is counted.
    public var encrypted = false
    /// Whether the replica could be read; when not, the counts are nil.
    public var readable = true
    /// Visible records; nil if unknown.
    public var records: Int?
    /// Changes not yet accepted by the server (pending or rejected); nil if unknown.
    public var unsentChanges: Int?
    /// The highest directory made for the replica by `haven init`, if it recorded one.
    public var createdDirectory: String?
}

/// What a wipe destroyed.
public struct WipeReport: Sendable, Hashable, Codable {
    /// The replica file's path.
    public var replica: String
    /// The files removed, the replica's and those beside it.
    public var removedFiles: [String]
    /// The directories removed: those `haven init` made for the replica, once empty.
    public var removedDirectories: [String]
    /// Whether the replica was encrypted, its key file destroyed first.
    public var encrypted: Bool
    /// Visible records destroyed; nil if the file could not be read.
    public var records: Int?
    /// Unsent changes destroyed; nil if the file could not be read.
    public var unsentChanges: Int?
    /// Whether every file was overwritten with zeros before it was unlinked.
    public var overwritten: Bool
    /// How long the wipe took.
    public var milliseconds: Int
}
