/// The publisher's signature over the published set at a point of the change log, carried by
/// every pull answer that brings its caller to the head (`signature` in `GET /v1/changes`).
///
/// What is signed is `"haven published-set v1" 0x00 key 0x00 seq digest`: the key's id in
/// UTF-8, `seq` as 8 bytes big-endian and the 32 bytes of `digest` (HavenTrust's
/// `PublishedSetMessage`).
public struct PublishedSetSignature: Sendable, Hashable, Codable {
    /// The id (fingerprint) of the signing key, as ``PublisherKeyEntry/id``.
    public var key: String
    /// The change log position the digest is of: the answer's cursor.
    public var seq: Int64
    /// The SHA-256 of the published set's 2 KiB set hash, base64.
    public var digest: String
    /// The Ed25519 signature, base64.
    public var signature: String

    /// A signature by the key `key` over `digest`, the published set at `seq`.
    public init(key: String, seq: Int64, digest: String, signature: String) {
        self.key = key
        self.seq = seq
        self.digest = digest
        self.signature = signature
    }
}

/// `GET /v1/publisher` answer: every signing key the server has had, oldest first; the last one
/// signs now. Each key after the first is endorsed by the one before it, so a client that pinned
/// any of them can follow the chain to the current key.
public struct PublisherKeys: Sendable, Hashable, Codable {
    /// Every signing key, oldest first; the last one signs now.
    public var keys: [PublisherKeyEntry]

    /// The chain of `keys`, oldest first.
    public init(keys: [PublisherKeyEntry]) { self.keys = keys }
}

/// One signing key of the publisher, public part only.
public struct PublisherKeyEntry: Sendable, Hashable, Codable {
    /// The key's fingerprint: `ed25519:` and the first 16 bytes of the SHA-256 of the raw key, hex.
    public var id: String
    /// The raw 32-byte Ed25519 public key, base64.
    public var publicKey: String
    /// The previous key's signature over `"haven publisher-key v1" 0x00` and this raw key,
    /// base64; nil for the first key.
    public var endorsement: String?

    /// A key with its fingerprint, its raw public key and its predecessor's endorsement, all base64 but `id`.
    public init(id: String, publicKey: String, endorsement: String?) {
        self.id = id
        self.publicKey = publicKey
        self.endorsement = endorsement
    }
}
