import Crypto
import Foundation
import HavenCore

/// A publisher's public signing key (Ed25519), which a replica pins and checks signatures with.
public struct PublisherKey: Sendable, Hashable, CustomStringConvertible {
    /// The raw 32-byte public key.
    public let rawKey: [UInt8]

    /// The key whose raw bytes are `rawKey`; nil when they are not an Ed25519 public key.
    public init?(rawKey: some Collection<UInt8>) {
        guard (try? Curve25519.Signing.PublicKey(rawRepresentation: Array(rawKey))) != nil else { return nil }
        self.rawKey = Array(rawKey)
    }

    /// The key of `entry`; nil when its `publicKey` is not base64 of a key, or its `id` is not
    /// that key's fingerprint.
    public init?(_ entry: PublisherKeyEntry) {
        guard let raw = Data(base64Encoded: entry.publicKey), let key = PublisherKey(rawKey: raw), key.id == entry.id
        else { return nil }
        self = key
    }

    /// The key's fingerprint, its id everywhere: `ed25519:` and the first 16 bytes of the
    /// SHA-256 of the raw key, in lowercase hex.
    public var id: String {
        "ed25519:" + SHA256.hash(data: rawKey).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The key's fingerprint, ``id``.
    public var description: String { id }

    /// The key as `GET /v1/publisher` lists it.
    public func entry(endorsement: [UInt8]?) -> PublisherKeyEntry {
        PublisherKeyEntry(
            id: id, publicKey: Data(rawKey).base64EncodedString(), endorsement: endorsement.map { Data($0).base64EncodedString() })
    }

    /// Whether `signature` is this key's over `message`.
    public func isValidSignature(_ signature: some DataProtocol, for message: some DataProtocol) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    /// Whether `signature` (base64) is this key's over the published set `digest` at `seq`.
    public func verifies(_ signature: PublishedSetSignature) -> Bool {
        guard signature.key == id, let digest = Data(base64Encoded: signature.digest), digest.count == SHA256.byteCount,
            let bytes = Data(base64Encoded: signature.signature)
        else { return false }
        return isValidSignature(bytes, for: PublishedSetMessage.bytes(key: id, seq: signature.seq, digest: Array(digest)))
    }

    /// The key that `pinned` leads to along `chain` (oldest first): each key after the pinned
    /// one must carry the previous key's endorsement. Nil when the pinned key is not in the
    /// chain or an endorsement does not verify: the chain is not to be followed.
    public static func follow(from pinned: PublisherKey, along chain: [PublisherKeyEntry]) -> PublisherKey? {
        guard let start = chain.firstIndex(where: { $0.id == pinned.id }) else { return nil }
        var current = pinned
        for entry in chain[(start + 1)...] {
            guard let next = PublisherKey(entry), let endorsement = entry.endorsement.flatMap({ Data(base64Encoded: $0) }),
                current.isValidSignature(endorsement, for: PublishedSetMessage.endorsement(of: next))
            else { return nil }
            current = next
        }
        return current
    }
}

/// The byte strings a publisher key signs, each with its own domain prefix so that no signature
/// of one kind can be passed off as another.
public enum PublishedSetMessage {
    /// `"haven published-set v1" 0x00 key 0x00 seq digest`: the published set's `digest`
    /// (the 32-byte ``PublishedSetDigest/summary``) at change log position `seq`.
    public static func bytes(key: String, seq: Int64, digest: [UInt8]) -> [UInt8] {
        var bytes = Array("haven published-set v1".utf8) + [0] + Array(key.utf8) + [0]
        withUnsafeBytes(of: UInt64(bitPattern: seq).bigEndian) { bytes += $0 }
        return bytes + digest
    }

    /// `"haven publisher-key v1" 0x00 raw-key`: the previous key's endorsement of `key`.
    public static func endorsement(of key: PublisherKey) -> [UInt8] {
        Array("haven publisher-key v1".utf8) + [0] + key.rawKey
    }
}
