import Foundation
import HavenCore
import HavenTrust

/// How both stores keep the published set's digest: base64 of its 2 KiB, in the `meta` table
/// under ``metaKey``.
extension PublishedSetDigest {
    /// The `meta` key the digest is stored under.
    static let metaKey = "published_digest"

    /// The digest stored as `text`.
    ///
    /// - Throws: when `text` is not a stored digest: the database was altered.
    init(stored text: String) throws {
        guard let bytes = Data(base64Encoded: text), let digest = PublishedSetDigest(bytes: bytes) else {
            throw StoredDigestDamaged()
        }
        self = digest
    }

    /// The text ``init(stored:)`` reads back.
    var stored: String { Data(bytes).base64EncodedString() }
}

/// The stored digest of the published set is not one: the database was altered by hand.
struct StoredDigestDamaged: Error, CustomStringConvertible {
    var description: String { "the published set's digest in the meta table is damaged" }
}

extension PublishedSetDigest {
    /// The digest of the records whose stored states (the state table's JSON) are `states`,
    /// computed from scratch: what a migration stores once for an existing database.
    static func computed(fromStoredStates states: some Sequence<String>) throws -> PublishedSetDigest {
        var digest = PublishedSetDigest()
        for text in states {
            let record = try StoredJSON.decode(TrackedRecord.self, from: text)
            if Publication.isInPublishedSet(record) { digest.add(record.state) }
        }
        return digest
    }
}
