import Foundation
import HavenCore
import HavenTrust
import Testing

struct PublisherKeyTests {
    private let digest = PublishedSetDigest(of: [])

    @Test func aSignatureVerifiesWithItsKeyOnly() throws {
        let key = PublisherSigningKey()
        let signature = try key.sign(digest, seq: 7)
        #expect(key.publicKey.verifies(signature))
        #expect(!PublisherSigningKey().publicKey.verifies(signature))
        var moved = signature
        moved.seq = 8
        #expect(!key.publicKey.verifies(moved))
        var otherDigest = signature
        otherDigest.digest = Data(PublishedSetDigest(bytes: [UInt8](repeating: 1, count: 2048))!.summary).base64EncodedString()
        #expect(!key.publicKey.verifies(otherDigest))
    }

    @Test func theIdIsTheFingerprintOfTheKey() throws {
        let key = PublisherSigningKey()
        let again = try PublisherSigningKey(rawKey: key.rawKey)
        #expect(again.publicKey == key.publicKey)
        #expect(key.publicKey.id.hasPrefix("ed25519:") && key.publicKey.id.count == 8 + 32)
        var forged = key.publicKey.entry(endorsement: nil)
        forged.id = PublisherSigningKey().publicKey.id
        #expect(PublisherKey(forged) == nil)
    }

    @Test func aRotationIsFollowedOnlyAlongEndorsements() throws {
        let first = PublisherSigningKey()
        let second = PublisherSigningKey()
        let third = PublisherSigningKey()
        let chain = [
            first.publicKey.entry(endorsement: nil),
            second.publicKey.entry(endorsement: try first.endorse(second.publicKey)),
            third.publicKey.entry(endorsement: try second.endorse(third.publicKey)),
        ]
        #expect(PublisherKey.follow(from: first.publicKey, along: chain) == third.publicKey)
        #expect(PublisherKey.follow(from: second.publicKey, along: chain) == third.publicKey)
        #expect(PublisherKey.follow(from: PublisherSigningKey().publicKey, along: chain) == nil)
        // A key slipped in without the previous key's endorsement breaks the chain.
        let intruder = PublisherSigningKey()
        let forged = chain + [intruder.publicKey.entry(endorsement: try intruder.endorse(intruder.publicKey))]
        #expect(PublisherKey.follow(from: first.publicKey, along: forged) == nil)
    }
}
