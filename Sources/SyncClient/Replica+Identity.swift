import Foundation
import GRDB

/// How a replica notices that it was copied to another device or restored from a backup: the
/// file it opens is not the file it was (another device and inode). Either way another copy may
/// hold the same replica id and counter, and two devices would send different changes under one
/// change id; so the replica takes a new identity (rule 4 of the outbox, Replica+Outbox.swift).
/// The server catches what this misses (a copy on the same file system that kept its inode
/// cannot exist; a backup restored by a tool that keeps inodes can): it answers
/// `change_id_conflict`, and the sync takes a new identity then.
extension Replica {
    /// Records the file's identity when it has none, and takes a new replica identity when the
    /// file is not the one recorded.
    ///
    /// - Returns: whether the replica took a new identity.
    @discardableResult
    func checkFileIdentity() throws -> Bool {
        guard let identity = Self.fileIdentity(of: path) else { return false }
        let stored = try database.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [ReplicaSettings.Key.fileIdentity.rawValue])
        }
        guard stored != identity else { return false }
        return try database.write { db in
            try ReplicaSettings.set(db, .fileIdentity, identity)
            guard stored != nil else { return false }
            _ = try takeNewIdentity(db)
            return true
        }
    }

    /// The file's device and inode: a copy, or a backup restored, is another file.
    static func fileIdentity(of path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "\(info.st_dev):\(info.st_ino)"
    }
}
