import Crypto
import Foundation
import Testing
import TestSupport

@testable import HavenClient

/// The key file beside an encrypted replica: its slots, its stored cost, and a conversion cut short.
@Suite(.temporaryDirectory)
struct ReplicaKeyFileTests {
    static let cheap = ReplicaKeyFile.Cost(log2N: 10, r: 8, p: 1)
    let passphrase = Passphrase(Array("correct horse".utf8))

    @Test func aFileOpensWithTheCostItWasMadeAtNotTheDefault() throws {
        // Given a file made at a lower cost than today's default, written and read back
        let dataKey = SymmetricKey(size: .bits256)
        let path = TemporaryDirectory.path("replica.sqlite")
        try ReplicaKeyFile.create(passphrase: passphrase, dataKey: dataKey, cost: Self.cheap).write(beside: path)
        let file = try ReplicaKeyFile.read(beside: path)

        // Then it keeps its cost and its passphrase opens the data key
        #expect(file.scrypt == Self.cheap)
        guard case .dataKey(let opened)? = file.open(with: try file.wrappingKey(for: passphrase))?.content else {
            Issue.record("the passphrase did not open the data key")
            return
        }
        #expect(opened == dataKey)
        #expect(file.open(with: try file.wrappingKey(for: Passphrase(Array("wrong".utf8)))) == nil)
    }

    @Test func aDuressSlotLooksLikeAnUnusedOneAndSwappedSlotsOpenNothing() throws {
        // Given a file with and without a duress passphrase
        var file = try ReplicaKeyFile.create(passphrase: passphrase, dataKey: SymmetricKey(size: .bits256), cost: Self.cheap)
        let unused = file.slots[1]
        let duress = Passphrase(Array("the river is calm".utf8))
        try file.seal(.duress(FreshReplica(server: "https://haven.example", pin: nil, insecureHTTP: false)), inSlot: 1, with: file.wrappingKey(for: duress))

        // Then the slots are the same size either way, and the duress passphrase opens slot 1
        #expect(file.slots[1].count == unused.count && unused.count == ReplicaKeyFile.sealedSize)
        #expect(file.open(with: try file.wrappingKey(for: duress))?.slot == 1)

        // And slots swapped in the file open as nothing: each is bound to its place
        file.slots.swapAt(0, 1)
        #expect(file.open(with: try file.wrappingKey(for: passphrase)) == nil)
        #expect(file.open(with: try file.wrappingKey(for: duress)) == nil)
    }

    @Test func openingFinishesAnEncryptionCutShortAfterTheKeyFileWasWritten() throws {
        // Given a plaintext replica with a story, and the key file 'haven encrypt' writes first
        let path = TemporaryDirectory.path("replica.sqlite")
        let id = try Replica.create(at: path, server: URL(string: "http://127.0.0.1:9")!, token: "t")
            .add(.story, values: ["title": "Kept", "body": "Safe.", "language": "en"])
        try ReplicaKeyFile.create(passphrase: passphrase, dataKey: SymmetricKey(size: .bits256), cost: Self.cheap)
            .write(beside: path)

        // When it is opened with the passphrase
        let replica = try Replica.open(at: path) { passphrase }

        // Then it is encrypted now, with its story
        #expect(Replica.isEncrypted(at: path) == true)
        #expect(try replica.records(.story).map(\.id) == [id])
    }
}
