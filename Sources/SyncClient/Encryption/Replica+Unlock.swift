import Crypto
import Foundation
import HavenCore

/// Opening an encrypted replica with its passphrase, and what a duress passphrase does.
///
/// 1. A replica is encrypted when its key file is beside it (ReplicaKeyFile.swift).
/// 2. A passphrase is judged with one scrypt: it opens the data key's slot, the duress slot, or
///    neither. Wrong ones are counted in the key file and slow further tries
///    (PassphraseAttempts.swift); nothing else changes.
/// 3. The duress passphrase, wherever a passphrase is asked (while tries are refused too),
///    wipes the replica as `haven wipe` does, key file first, then makes a fresh encrypted
///    replica for the same server and pin whose passphrase is the one just typed, and carries on
///    with it. Nothing is printed about it.
/// 4. A replica still in plaintext beside its key file is one whose `haven encrypt` was cut
///    short (the key file is written first): opening it with the passphrase finishes the job.
/// 5. That fresh replica has no records, no unsent changes and not the person's token: with it
///    the server would send their own stories straight back. It holds a random token of the same
///    shape instead, so it is what a replica looks like whose token was revoked after `haven
///    init`: empty, never synced, and its first sync answered "the token is unknown, expired or
///    revoked: ask an admin for a new one".
extension Replica {
    /// An encrypted replica's key file opened with its passphrase: what changes the passphrase
    /// or sets the duress passphrase, and opens the replica.
    public struct Unlocked {
        /// The replica file's path.
        public let path: String
        var keyFile: ReplicaKeyFile
        let dataKey: SymmetricKey

        /// The replica, opened with the data key; first encrypted, if it is still plaintext (rule 4).
        public func replica() throws -> Replica {
            if Replica.isEncrypted(at: path) == false { try Replica.encryptInPlace(path: path, key: dataKey) }
            return try Replica.open(at: path, encryptionKey: dataKey)
        }
    }

    /// Whether the replica at `path` is encrypted, as far as asking its passphrase goes (rule 1).
    public static func hasKeyFile(at path: String) -> Bool { ReplicaKeyFile.exists(beside: path) }

    /// Opens the replica at `path` that `haven init` made, asking `passphrase` only when it is
    /// encrypted, as every `haven` command opens it; the duress passphrase is obeyed as rule 3
    /// says, and nothing tells it apart.
    ///
    /// For example:
    /// ```swift
    /// let replica = try Replica.open(at: "field.sqlite") {
    ///     Passphrase(reading: try Data(contentsOf: passphraseFile))
    /// }
    /// ```
    ///
    /// - Throws: ``ClientError`` for a missing replica, a wrong passphrase, or while tries are refused.
    public static func open(at path: String, passphrase: () throws -> Passphrase) throws -> Replica {
        try open(at: path, passphrase: passphrase, now: Date())
    }

    static func open(at path: String, passphrase: () throws -> Passphrase, now: Date) throws -> Replica {
        guard hasKeyFile(at: path) else { return try open(at: path) }
        return try unlock(at: path, passphrase: passphrase(), now: now).replica()
    }

    /// Opens the key file of the encrypted replica at `path` with `passphrase` by rules 2 and 3;
    /// the database itself is not opened.
    ///
    /// `passphrase` is asked only once the file is known to be an encrypted replica.
    ///
    /// - Throws: ``ClientError`` for a missing or plaintext replica, a wrong passphrase, or while
    ///   tries are refused.
    public static func unlock(at path: String, passphrase: () throws -> Passphrase) throws -> Unlocked {
        guard FileManager.default.fileExists(atPath: path) else { throw ClientError.noReplica(path) }
        guard hasKeyFile(at: path) else { throw notEncrypted(path) }
        return try unlock(at: path, passphrase: passphrase(), now: Date())
    }

    static func unlock(at path: String, passphrase: Passphrase, now: Date = Date()) throws -> Unlocked {
        guard FileManager.default.fileExists(atPath: path) else { throw ClientError.noReplica(path) }
        var keyFile = try ReplicaKeyFile.read(beside: path)
        let refusal = keyFile.attempts.refusal(now: now)
        switch keyFile.open(with: try keyFile.wrappingKey(for: passphrase))?.content {
        case .duress(let fresh):
            try wipe(at: path)
            return try createEncrypted(
                at: path, server: URL(string: fresh.server)!, token: lookalikeToken(),
                link: Link(pin: fresh.pin.flatMap(PinnedKey.init(parsing:)), insecureHTTP: fresh.insecureHTTP),
                passphrase: passphrase)
        case .dataKey(let dataKey) where refusal == nil:
            if keyFile.attempts != PassphraseAttempts() {
                keyFile.attempts = PassphraseAttempts()
                try keyFile.write(beside: path)
            }
            return Unlocked(path: path, keyFile: keyFile, dataKey: dataKey)
        default:
            if let refusal {
                throw ClientError(refusal + Words("; nothing was changed", korean: ". 아무것도 바꾸지 않았습니다"))
            }
            keyFile.attempts.recordFailure(now: now)
            try keyFile.write(beside: path)
            let wrong = Words(
                "wrong passphrase for the replica \(path): nothing was changed",
                korean: "복제본(\(path))의 암호문구가 틀렸습니다: 아무것도 바꾸지 않았습니다")
            guard let wait = keyFile.attempts.refusal(now: now) else { throw ClientError(wrong) }
            throw ClientError(wrong + Words("; ", korean: ". ") + wait)
        }
    }

    /// Creates an encrypted replica for `server` whose data key `passphrase` unlocks; the slow
    /// key derivation (scrypt, a second or so) runs before anything is written.
    ///
    /// For example:
    /// ```swift
    /// let replica = try Replica.createEncrypted(
    ///     at: path, server: server, token: token, link: Link(pin: pin), passphrase: passphrase
    /// ).replica()
    /// ```
    public static func createEncrypted(
        at path: String, server: URL, token: String, link: Link = Link(), passphrase: Passphrase
    ) throws -> Unlocked {
        let dataKey = SymmetricKey(size: .bits256)
        // The slow scrypt runs before anything is written.
        var keyFile = try ReplicaKeyFile.create(passphrase: passphrase, dataKey: dataKey)
        keyFile.createdDirectory = firstMissingDirectory(above: path)
        _ = try create(at: path, server: server, token: token, link: link, encryptionKey: dataKey)
        try keyFile.write(beside: path)
        return Unlocked(path: path, keyFile: keyFile, dataKey: dataKey)
    }

    /// Encrypts the plaintext replica at `path` in place, unsent changes kept: the key file is
    /// written first, then the file is converted, and a conversion cut short is finished by the
    /// next open with the passphrase (rule 4). `passphrase` is asked only once the file is known
    /// to be a plaintext replica.
    ///
    /// - Throws: ``ClientError`` when there is no replica at `path` or it is already encrypted.
    public static func encrypt(at path: String, passphrase: () throws -> Passphrase) throws {
        guard !hasKeyFile(at: path) else {
            throw ClientError(
                Words(
                    "the replica \(path) is already encrypted: 'haven passphrase change' changes its passphrase",
                    korean: "복제본(\(path))은 이미 암호화되어 있습니다: 암호문구는 'haven passphrase change'로 바꿉니다"))
        }
        _ = try open(at: path)  // a replica, not any file: refused here otherwise
        let dataKey = SymmetricKey(size: .bits256)
        try ReplicaKeyFile.create(passphrase: passphrase(), dataKey: dataKey).write(beside: path)
        try encryptInPlace(path: path, key: dataKey)
    }

    private static func notEncrypted(_ path: String) -> ClientError {
        ClientError(
            Words(
                "the replica \(path) is not encrypted: run 'haven encrypt' first",
                korean: "복제본(\(path))이 암호화되어 있지 않습니다: 먼저 'haven encrypt'를 실행하세요"))
    }

    /// What a server's token looks like (`hvn_` and 256 bits in base64url), but random: no server knows it.
    private static func lookalikeToken() -> String {
        "hvn_" + ReplicaKeyFile.randomBytes(32).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension Replica.Unlocked {
    /// Wraps the data key under `passphrase` instead, keeping the salt, the cost and the duress
    /// slot; no record is rewritten.
    ///
    /// - Throws: ``ClientError`` when `passphrase` is the duress passphrase.
    public mutating func changePassphrase(to passphrase: Passphrase) throws {
        let wrappingKey = try keyFile.wrappingKey(for: passphrase)
        if case .duress = keyFile.open(with: wrappingKey)?.content {
            throw ClientError(
                Words(
                    "the new passphrase must differ from the duress passphrase: nothing was changed",
                    korean: "새 암호문구는 비상 암호문구와 달라야 합니다: 아무것도 바꾸지 않았습니다"))
        }
        try keyFile.seal(.dataKey(dataKey), inSlot: 0, with: wrappingKey)
        try keyFile.write(beside: path)
    }

    /// Sets the duress passphrase: sealed under it is what a fresh replica for the same server
    /// needs (rules 3 and 5), replacing any duress passphrase set before.
    ///
    /// - Throws: ``ClientError`` when `passphrase` is the replica's own.
    public mutating func setDuress(_ passphrase: Passphrase) throws {
        let wrappingKey = try keyFile.wrappingKey(for: passphrase)
        if case .dataKey = keyFile.open(with: wrappingKey)?.content {
            throw ClientError(
                Words(
                    "the duress passphrase must differ from the replica's passphrase: nothing was changed",
                    korean: "비상 암호문구는 복제본의 암호문구와 달라야 합니다: 아무것도 바꾸지 않았습니다"))
        }
        let settings = try replica().settings()
        let fresh = FreshReplica(
            server: settings.server.absoluteString, pin: settings.pin?.description, insecureHTTP: settings.insecureHTTP)
        try keyFile.seal(.duress(fresh), inSlot: 1, with: wrappingKey)
        try keyFile.write(beside: path)
    }
}
