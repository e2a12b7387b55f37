import Crypto
import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient

/// `Replica.encryptInPlace` (`haven encrypt`): a plaintext replica becomes an encrypted one,
/// everything readable after, no plaintext left under its directory, and a stop at any step
/// leaves a replica that opens.
@Suite(.temporaryDirectory)
struct EncryptInPlaceTests {
    let key = SymmetricKey(size: .bits256)
    let token = "hv_tok_5be2a9c41f0d7736"

    private var directory: URL { URL(fileURLWithPath: TemporaryDirectory.path("")) }

    /// A closed plaintext replica holding the scan's phrases and the token.
    private func plaintextReplica() throws -> String {
        let replica = try Replica.create(
            at: TemporaryDirectory.path("replica.sqlite"), server: Fixtures.server, token: token,
            wallClock: ManualClock(Fixtures.epoch).read)
        try addSecretStories(to: replica)
        return replica.path
    }

    private func expectReadable(_ replica: Replica) throws {
        #expect(try replica.settings().token == token)
        #expect(try replica.records(.story).count == 2)
        #expect(try replica.search(SearchQuery("Yanji")).count == 1)
        #expect(try replica.status().unsentChanges == 3)
    }

    @Test func convertsAndLeavesNoPlaintextBehind() throws {
        let path = try plaintextReplica()
        try #require(try ReplicaFiles.scan(directory, for: ReplicaFiles.needles([token])) != [])

        try Replica.encryptInPlace(path: path, key: key)

        #expect(Replica.isEncrypted(at: path) == true)
        try expectReadable(try Replica.open(at: path, encryptionKey: key))
        #expect(try ReplicaFiles.scan(directory, for: ReplicaFiles.needles(ReplicaFiles.phrases + [token])) == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["replica.sqlite"])
    }

    @Test func refusesAnEncryptedReplicaAndLeavesItAsItWas() throws {
        let path = try plaintextReplica()
        try Replica.encryptInPlace(path: path, key: key)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = try #require(throws: ClientError.self) { try Replica.encryptInPlace(path: path, key: key) }
        #expect(error.message.contains("already encrypted"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    /// Stopped after each step (as a kill would), the replica opens: plaintext before the
    /// rename, encrypted after; running it again, or opening with the key, finishes the job.
    @Test(arguments: Replica.EncryptionStep.allCases)
    func aStopAtAnyStepLeavesAReadableReplica(step: Replica.EncryptionStep) throws {
        let path = try plaintextReplica()
        #expect(throws: Replica.StoppedForTest.self) {
            try Replica.encryptInPlace(path: path, key: key, stoppingAfter: step)
        }
        switch Replica.isEncrypted(at: path) {
        case false?:
            try expectReadable(try Replica.open(at: path))
            try Replica.encryptInPlace(path: path, key: key)
        case true?:
            #expect(step == .renamed)
        case nil:
            Issue.record("no replica at \(path) after \(step)")
        }
        try expectReadable(try Replica.open(at: path, encryptionKey: key))
        #expect(try ReplicaFiles.scan(directory, for: ReplicaFiles.needles(ReplicaFiles.phrases + [token])) == [])
    }
}
