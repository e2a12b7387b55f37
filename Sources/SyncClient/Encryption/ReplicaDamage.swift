import HavenCore

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
                Words(
                    "this replica is not encrypted: open it without a key, or convert it with 'haven encrypt'",
                    korean: "이 복제본은 암호화되어 있지 않습니다: 키 없이 열거나, 'haven encrypt'로 암호화하세요"))
        case .page(1):
            ClientError(
                Words(
                    "wrong key or damaged replica at page 1: check the passphrase; if it is right, the replica file was "
                        + "changed on disk: restore it from a backup, or wipe it and sync again",
                    korean: "키가 틀렸거나 복제본의 1쪽이 손상되었습니다: 암호문구를 확인하세요. 암호문구가 맞다면 복제본 "
                        + "파일이 디스크에서 바뀐 것입니다: 백업에서 되살리거나, 지운 뒤 다시 동기화하세요"))
        case .page(let page):
            ClientError(
                Words(
                    "replica damaged at page \(page): it fails authentication (changed on disk, or not sealed by this "
                        + "replica's key); nothing of it was read: restore the replica from a backup, or wipe it and sync again",
                    korean: "복제본의 \(page)쪽이 손상되었습니다: 인증에 실패했습니다 (디스크에서 바뀌었거나, 이 복제본의 "
                        + "키로 봉인되지 않았습니다). 그 쪽은 하나도 읽지 않았습니다: 백업에서 복제본을 되살리거나, 지운 뒤 "
                        + "다시 동기화하세요"))
        case .walFrame(let frame, let page):
            ClientError(
                Words(
                    "replica damaged at page \(page) (frame \(frame) of its write-ahead log): it fails authentication; "
                        + "nothing of it was read: restore the replica from a backup, or wipe it and sync again",
                    korean: "복제본의 \(page)쪽(선행 기록 로그의 \(frame)번째 프레임)이 손상되었습니다: 인증에 실패했습니다. "
                        + "그 쪽은 하나도 읽지 않았습니다: 백업에서 복제본을 되살리거나, 지운 뒤 다시 동기화하세요"))
        case .layout(let detail):
            ClientError(
                Words(
                    "cannot write the encrypted replica: \(detail)",
                    korean: "암호화된 복제본을 쓸 수 없습니다: \(detail)"))
        }
    }
}
