import Crypto
import Foundation
import GRDB
import GRDBSQLite
import HavenCore

/// The replica's SQLite pool, plain or through the encrypted VFS, whose errors say what went
/// wrong in words: a page that fails authentication is reported by SQLite as a bare "disk I/O
/// error"; this turns it into the ``ClientError`` the VFS recorded ("replica damaged at page N").
struct ReplicaDatabase: Sendable {
    let pool: DatabasePool
    let encryption: EncryptedVFS?

    /// Opens the pool on `path`, through the VFS for `key` when there is one.
    init(path: String, key: SymmetricKey?, configuration: Configuration) throws {
        var configuration = configuration
        let encryption = try key.map(EncryptedVFS.forKey)
        if encryption != nil { configuration.prepareDatabase(Self.prepareEncrypted) }
        do {
            pool = try DatabasePool(path: encryption.map { Self.uri(path, vfs: $0.name) } ?? path, configuration: configuration)
            // GRDB sets `synchronous = NORMAL` on the writer as it turns WAL on, after
            // `prepareDatabase`: FULL again, so that what was typed survives a dead battery, not
            // only a killed app.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        } catch {
            throw Self.described(error, encryption: encryption, path: path)
        }
        self.encryption = encryption
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try described { try pool.read(body) }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        try described { try pool.write(body) }
    }

    /// As ``write(_:)``, on the pool's own writer thread while the calling task waits: a long
    /// transaction then holds no thread of Swift's concurrency pool (two on two cores), which a
    /// streamed pull needs to read its link (ServerAPI+Stream.swift).
    func writeWaiting<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch { throw Self.described(error, encryption: encryption, path: pool.path) }
    }

    func described<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw Self.described(error, encryption: encryption, path: pool.path) }
    }

    /// `error` in words when it comes from the encryption (or its absence), else as it is.
    static func described(_ error: any Error, encryption: EncryptedVFS?, path: String) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        if let encryption, let damage = encryption.damage(behind: error.extendedResultCode.rawValue) { return damage }
        if encryption == nil && error.resultCode == .SQLITE_NOTADB {
            return ClientError(
                Words(
                    "\(path) is encrypted, or is not a replica: open it with its passphrase; if it has none, it is not a "
                        + "Haven replica",
                    korean: "\(path): 암호화되어 있거나 복제본이 아닙니다. 암호문구로 여세요. 암호문구가 없다면 Haven "
                        + "복제본이 아닙니다"))
        }
        return error
    }

    /// A `file:` URI naming the VFS; SQLite reads URI filenames (Debian builds it with
    /// SQLITE_USE_URI). Only SQLite sees it: file modes, identity and wipe use the real path.
    static func uri(_ path: String, vfs: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        // urlPathAllowed leaves out "?", "#" and "%", which would end or escape the path.
        return "file://" + absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)! + "?vfs=" + vfs
    }

    /// Every connection to an encrypted replica: pages of 4096 bytes with 28 reserved for the
    /// nonce and tag, set before the first table (`SQLITE_FCNTL_RESERVE_BYTES`, as cksumvfs
    /// documents; on an existing database it changes nothing), and temporary tables, indices and
    /// sorts in memory.
    @Sendable static func prepareEncrypted(_ db: Database) throws {
        // page_size first: the pragma resets the reserve SQLite will want to the current one.
        try db.execute(sql: "PRAGMA page_size = \(PageCipher.pageSize); PRAGMA temp_store = MEMORY")
        try setReservedBytes(db)
    }

    static func setReservedBytes(_ db: Database) throws {
        var reserve = Int32(PageCipher.reservedBytes)
        let result = sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve)
        guard result == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: result)) }
    }
}
