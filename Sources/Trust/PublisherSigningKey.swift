import Crypto
import Foundation
import HavenCore

/// The publisher's private Ed25519 key: signs the published set on every pull that reaches the
/// head, and endorses its successor on rotation. Kept in the server's database, so that every
/// instance sharing the database signs alike; never logged.
public struct PublisherSigningKey: Sendable {
    /// The raw private key, for the database only. (swift-crypto's key type is not `Sendable`.)
    public let rawKey: [UInt8]
    /// The public half.
    public let publicKey: PublisherKey

    /// A new random key.
    public init() { try! self.init(rawKey: Array(Curve25519.Signing.PrivateKey().rawRepresentation)) }

    /// The key whose 32 raw bytes are `rawKey`, as ``rawKey`` gave them.
    public init(rawKey: some ContiguousBytes) throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawKey)
        self.rawKey = Array(key.rawRepresentation)
        self.publicKey = PublisherKey(rawKey: key.publicKey.rawRepresentation)!
    }

    /// Rebuilt for each use; `rawKey` was checked when the key was made.
    private var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: rawKey) }

    /// The signature of `digest` at `seq`, as a pull answer carries it.
    public func sign(_ digest: PublishedSetDigest, seq: Int64) throws -> PublishedSetSignature {
        let id = publicKey.id
        let summary = digest.summary
        let signature = try key.signature(for: PublishedSetMessage.bytes(key: id, seq: seq, digest: summary))
        return PublishedSetSignature(
            key: id, seq: seq, digest: Data(summary).base64EncodedString(), signature: signature.base64EncodedString())
    }

    /// This key's endorsement of `successor`, the key that replaces it.
    public func endorse(_ successor: PublisherKey) throws -> [UInt8] {
        Array(try key.signature(for: PublishedSetMessage.endorsement(of: successor)))
    }
}
