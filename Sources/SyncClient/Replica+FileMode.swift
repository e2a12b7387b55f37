import Foundation
import GRDB
import HavenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Who may read a replica: it holds the token and restricted stories, so its file and the files
/// SQLite makes beside it are the owner's alone (0600), and so are the directories `haven init`
/// makes for it (0700), whatever the umask. SQLite gives `-wal`, `-shm` and `-journal` the mode
/// of the database file, so creating that file 0600 before SQLite opens it is enough for new
/// replicas; a replica made by an older version is tightened each time it is opened.
extension Replica {
    static let fileMode: mode_t = 0o600
    static let directoryMode: mode_t = 0o700

    /// Makes the missing directories above `path` and an empty replica file there, each for the
    /// owner alone.
    ///
    /// - Returns: the highest directory made, if any.
    static func createPrivately(at path: String) throws -> String? {
        let created = firstMissingDirectory(above: path)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        for directory in directories(from: created, to: path) { chmod(directory, directoryMode) }
        let descriptor = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw ClientError(Words("cannot create \(path): \(reason)", korean: "만들 수 없습니다: \(path): \(reason)"))
        }
        fchmod(descriptor, fileMode)
        close(descriptor)
        return created
    }

    /// Takes every permission but the owner's from the replica's files and from the directories
    /// `haven init` made for it. Best effort: a file this user does not own is left as it is.
    func tightenPermissions() throws {
        let created = try database.read { db in
            try String.fetchOne(
                db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [ReplicaSettings.Key.createdDirectory.rawValue])
        }
        for file in Self.companionFiles(of: path) { Self.tighten(file, to: Self.fileMode) }
        for directory in Self.directories(from: created, to: path) { Self.tighten(directory, to: Self.directoryMode) }
    }

    private static func tighten(_ path: String, to mode: mode_t) {
        var info = stat()
        // Never through a symbolic link: only what the replica itself is.
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFLNK, info.st_mode & 0o777 != mode else { return }
        chmod(path, mode)
    }

    /// The replica's directory and its parents up to `top`, when `top` is one of them.
    private static func directories(from top: String?, to path: String) -> [String] {
        guard let top = top.map({ URL(fileURLWithPath: $0).standardizedFileURL.path }) else { return [] }
        var directory = URL(fileURLWithPath: path).deletingLastPathComponent().standardizedFileURL
        var directories: [String] = []
        while directory.path == top || directory.path.hasPrefix(top + "/") {
            directories.append(directory.path)
            if directory.path == top { break }
            directory = directory.deletingLastPathComponent().standardizedFileURL
        }
        return directories
    }
}
