import HavenTrust

/// Where the server keeps its publisher signing keys: in the database, so that every instance
/// sharing it signs with the same key. The newest key signs; each key after the first carries
/// its predecessor's endorsement.
package protocol SigningKeyStore: Sendable {
    /// Every signing key, oldest first.
    func signingKeys() async throws -> [StoredSigningKey]

    /// Reads the keys, calls `make` with them (oldest first) and stores the key it returns as
    /// the newest, in one transaction: two rotations at once cannot both endorse from the same key.
    func addSigningKey(_ make: @escaping @Sendable ([StoredSigningKey]) throws -> StoredSigningKey) async throws
}

/// A signing key as stored: the private key, and the previous key's endorsement of it.
package struct StoredSigningKey: Sendable {
    package var key: PublisherSigningKey
    /// The previous key's signature over this one (``PublishedSetMessage/endorsement(of:)``);
    /// nil for the first key.
    package var endorsement: [UInt8]?
    /// When it was made, milliseconds since 1970.
    package var createdAt: UInt64

    package init(key: PublisherSigningKey, endorsement: [UInt8]?, createdAt: UInt64) {
        self.key = key
        self.endorsement = endorsement
        self.createdAt = createdAt
    }
}
