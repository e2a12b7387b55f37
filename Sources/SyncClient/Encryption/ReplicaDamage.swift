/// Why an encrypted replica could not be read: what the VFS found, kept until the SQLite error it
/// caused (`SQLITE_IOERR_DATA`, a plain "disk I/O error") reaches Swift and is said in words.
enum ReplicaDamage: Sendable, Equatable {
    /// Page 1 is plain SQLite: the file was never encrypted.
    case notEncrypted
    /// A page of the database file failed authentication: changed, moved, or sealed by another key.
    case page(Int)
    /// A committed WAL frame failed authentication.
    case walFrame(frame: Int, page: Int)
    /// SQLite tried to write a page whose layout leaves no room for the nonce and tag (a bug).
    case layout(String)

    var error: ClientError {
        switch self {
        case .notEncrypted:
            ClientError(
                "this replica is not encrypted: open it without a key, or convert it with 'haven encrypt'")
        case .page(1):
            ClientError(
                "wrong key or damaged replica at page 1: check the passphrase; if it is right, the replica file was "
                    + "changed on disk: restore it from a backup, or wipe it and sync again")
        case .page(let page):
            ClientError(
                "replica damaged at page \(page): it fails authentication (changed on disk, or not sealed by this "
                    + "replica's key); nothing of it was read: restore the replica from a backup, or wipe it and sync again")
        case .walFrame(let frame, let page):
            ClientError(
                "replica damaged at page \(page) (frame \(frame) of its write-ahead log): it fails authentication; "
                    + "nothing of it was read: restore the replica from a backup, or wipe it and sync again")
        case .layout(let detail):
            ClientError("cannot write the encrypted replica: \(detail)")
        }
    }
}
