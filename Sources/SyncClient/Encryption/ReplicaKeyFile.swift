import Crypto
import Foundation
import _CryptoExtras
import HavenCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file beside an encrypted replica (`replica.sqlite.key`, 0600) that holds its data key,
/// wrapped by a key derived from the passphrase.
///
/// The rules:
/// 1. The data key is 32 random bytes; the pages of the replica are encrypted with it. A
///    passphrase change rewraps it and rewrites no record.
/// 2. The wrapping key is scrypt(passphrase, salt) at the cost written in the file (N=2^17, r=8,
///    p=1 by default, OWASP's figure), so a file made at an older cost stays readable. The salt
///    is the replica's for its whole life: both slots are wrapped with it, so changing one
///    passphrase needs neither the other passphrase nor a second scrypt on open.
/// 3. There are always two slots of the same size, AES-256-GCM sealed boxes bound to their
///    index: slot 0 holds the data key, slot 1 either what a fresh replica needs (the duress
///    passphrase's) or random bytes. Without a passphrase nobody can tell whether a duress
///    passphrase is set.
/// 4. Every write is a new file, flushed, then renamed over the old: a crash leaves the old
///    file or the new, never half of one.
/// 5. Destroying it (a wipe, a duress passphrase) overwrites it with random bytes and flushes
///    before unlinking: without it the replica's pages are noise, even where a flash disk keeps
///    the old blocks of the replica itself.
///
/// Beside the replica rather than inside it: it must be read before the database can be, it is
/// a few hundred bytes that a wipe destroys first and at once, and it goes with the replica
/// when both are moved.
struct ReplicaKeyFile: Codable {
    /// scrypt's cost; written in the file, so raising the default later keeps old files readable.
    struct Cost: Codable, Equatable {
        var log2N: Int
        var r: Int
        var p: Int

        static let standard = Cost(log2N: 17, r: 8, p: 1)

        /// The cost for a new key file: the standard one, unless the test suite asks for less
        /// with HAVEN_TEST_ONLY_SCRYPT_LOG2N. Only new files (init, encrypt) take it: a file that
        /// exists keeps its own cost on every rewrite.
        static var forNewFile: Cost {
            guard let value = ProcessInfo.processInfo.environment["HAVEN_TEST_ONLY_SCRYPT_LOG2N"],
                let log2N = Int(value), (10..<standard.log2N).contains(log2N)
            else { return standard }
            return Cost(log2N: log2N, r: standard.r, p: standard.p)
        }
    }

    /// What a slot holds once opened.
    enum Content {
        case dataKey(SymmetricKey)
        /// The duress passphrase's slot: what the fresh replica that replaces this one keeps.
        case duress(FreshReplica)
    }

    var format = "haven-replica-key"
    var version = 1
    var scrypt: Cost
    var salt: Data
    /// Always two, each ``sealedSize`` bytes.
    var slots: [Data]
    var attempts = PassphraseAttempts()
    /// The highest directory `haven init` made for the replica, which a wipe removes if empty:
    /// kept here, as a wipe reads nothing inside the encrypted replica.
    var createdDirectory: String?

    static let slotCount = 2
    /// Every slot's plaintext is padded to this, so the slots' sizes say nothing.
    static let paddedSize = 1_024
    static let sealedSize = paddedSize + 12 + 16
    private static let keyTag: UInt8 = 1
    private static let duressTag: UInt8 = 2

    /// Where the key file of the replica at `replica` lives.
    static func path(beside replica: String) -> String { replica + ".key" }

    static func exists(beside replica: String) -> Bool {
        FileManager.default.fileExists(atPath: path(beside: replica))
    }

    /// A new file wrapping `dataKey` under `passphrase`, its duress slot random.
    static func create(passphrase: Passphrase, dataKey: SymmetricKey, cost: Cost = .forNewFile) throws -> ReplicaKeyFile {
        var file = ReplicaKeyFile(
            scrypt: cost, salt: randomBytes(32), slots: (0..<slotCount).map { _ in randomBytes(sealedSize) })
        try file.seal(.dataKey(dataKey), inSlot: 0, with: file.wrappingKey(for: passphrase))
        return file
    }

    /// The key that opens the slots `passphrase` sealed: one scrypt, whichever slot it opens.
    func wrappingKey(for passphrase: Passphrase) throws -> SymmetricKey {
        try KDF.Scrypt.deriveKey(
            from: passphrase.bytes, salt: salt, outputByteCount: 32, rounds: 1 << scrypt.log2N, blockSize: scrypt.r,
            parallelism: scrypt.p)
    }

    /// What the slot `wrappingKey` opens holds, and which slot it is; nil when it opens none.
    func open(with wrappingKey: SymmetricKey) -> (slot: Int, content: Content)? {
        for index in slots.indices {
            guard let box = try? AES.GCM.SealedBox(combined: slots[index]),
                var padded = try? AES.GCM.open(box, using: wrappingKey, authenticating: Self.associatedData(index))
            else { continue }
            defer { padded.resetBytes(in: padded.startIndex..<padded.endIndex) }
            guard let content = Self.content(from: padded) else { continue }
            return (index, content)
        }
        return nil
    }

    /// Seals `content` into slot `index` under `wrappingKey`, replacing what was there.
    mutating func seal(_ content: Content, inSlot index: Int, with wrappingKey: SymmetricKey) throws {
        var padded = Data(repeating: 0, count: Self.paddedSize)
        defer { padded.resetBytes(in: 0..<padded.count) }
        switch content {
        case .dataKey(let key):
            padded[0] = Self.keyTag
            key.withUnsafeBytes { padded.replaceSubrange(1..<(1 + $0.count), with: $0) }
        case .duress(let fresh):
            let json = try JSONEncoder().encode(fresh)
            guard json.count < Self.paddedSize else { throw ClientError(
                    Words(
                        "the server address is too long to keep for a duress passphrase",
                        korean: "서버 주소가 너무 길어서 비상 암호문구용으로 보관할 수 없습니다")) }
            padded[0] = Self.duressTag
            padded.replaceSubrange(1..<(1 + json.count), with: json)
        }
        slots[index] = try AES.GCM.seal(padded, using: wrappingKey, authenticating: Self.associatedData(index)).combined!
    }

    private static func content(from padded: Data) -> Content? {
        let body = padded.dropFirst()
        switch padded.first {
        case keyTag: return .dataKey(SymmetricKey(data: body.prefix(32)))
        case duressTag:
            let json = body.prefix { $0 != 0 }
            return (try? JSONDecoder().decode(FreshReplica.self, from: json)).map(Content.duress)
        default: return nil
        }
    }

    /// Binds a sealed slot to its place: slots swapped in the file open as nothing.
    private static func associatedData(_ index: Int) -> Data { Data("haven-replica-key/1/slot/\(index)".utf8) }

    static func randomBytes(_ count: Int) -> Data {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Data($0) }
    }

    // MARK: The file

    /// The key file beside `replica`.
    ///
    /// - Throws: ``ClientError`` naming the file when it cannot be read or is not a key file.
    static func read(beside replica: String) throws -> ReplicaKeyFile {
        let path = path(beside: replica)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClientError(
                Words(
                    "cannot read the replica's key file \(path): check that it exists and is yours",
                    korean: "복제본의 키 파일(\(path))을 읽을 수 없습니다: 파일이 있는지, 내 파일인지 확인하세요"))
        }
        guard let file = try? JSONDecoder().decode(ReplicaKeyFile.self, from: data), file.format == "haven-replica-key",
            file.version == 1, file.slots.count == slotCount, file.slots.allSatisfy({ $0.count == sealedSize }),
            (1...30).contains(file.scrypt.log2N), file.scrypt.r > 0, file.scrypt.p > 0
        else {
            throw ClientError(
                Words(
                    "\(path) is damaged or not a Haven key file: without it the replica cannot be opened; restore it from "
                        + "a backup, or 'haven wipe --yes' and init again",
                    korean: "\(path): 손상되었거나 Haven 키 파일이 아닙니다. 이 파일 없이는 복제본을 열 수 없습니다: "
                        + "백업에서 되살리거나, 'haven wipe --yes' 뒤에 다시 init 하세요"))
        }
        return file
    }

    /// Writes the file beside `replica` by rule 4.
    func write(beside replica: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try Self.replaceDurably(Self.path(beside: replica), with: try encoder.encode(self))
    }

    /// Writes `data` to a new file, flushes it, renames it over `path` and flushes the directory.
    private static func replaceDurably(_ path: String, with data: Data) throws {
        let temporary = path + ".new"
        let descriptor = Glibc.open(temporary, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, Replica.fileMode)
        guard descriptor >= 0 else { let reason = String(cString: strerror(errno))
            throw ClientError(Words("cannot write \(temporary): \(reason)", korean: "쓸 수 없습니다: \(temporary): \(reason)")) }
        let written = data.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let flushed = fsync(descriptor) == 0
        close(descriptor)
        guard written == data.count, flushed, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ClientError(
                Words(
                    "cannot write \(path): \(reason); the old key file is unchanged",
                    korean: "쓸 수 없습니다: \(path): \(reason). 이전 키 파일은 그대로입니다"))
        }
        syncDirectory(of: path)
    }

    /// Rule 5: overwrites the key file beside `replica` (and any half-written new one) with
    /// random bytes, flushes, unlinks. Returns whether there was one.
    @discardableResult
    static func destroy(beside replica: String) -> Bool {
        let files = [path(beside: replica), path(beside: replica) + ".new"]
        var destroyed = false
        for file in files {
            var info = stat()
            guard lstat(file, &info) == 0 else { continue }
            destroyed = true
            if (info.st_mode & S_IFMT) == S_IFREG {
                let descriptor = Glibc.open(file, O_WRONLY | O_CLOEXEC)
                if descriptor >= 0 {
                    let noise = randomBytes(Int(info.st_size))
                    _ = noise.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
                    fsync(descriptor)
                    close(descriptor)
                }
            }
            unlink(file)
        }
        if destroyed { syncDirectory(of: path(beside: replica)) }
        return destroyed
    }

    private static func syncDirectory(of path: String) {
        let descriptor = Glibc.open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}

/// What the replica that a duress passphrase leaves behind keeps of the one it replaces: the
/// server and how to reach it, nothing else (no token, no record).
struct FreshReplica: Codable, Equatable {
    var server: String
    var pin: String?
    var insecureHTTP: Bool
}
