import Foundation
import HavenClient
import HavenCore
import Testing
import TestSupport

/// The encryption API as an app calls it, through the public API only (no `@testable`): a
/// passphrase is asked only when it is needed, a plaintext replica is encrypted in place with
/// its unsent changes, and a changed passphrase leaves the old one useless.
@Suite(.temporaryDirectory)
struct EncryptionAPITests {
    private static func passphrase(_ text: String) -> Passphrase { Passphrase(Array(text.utf8)) }

    /// A closure that records an issue if it is ever asked.
    private static func neverAsked(_ why: String) -> () throws -> Passphrase {
        { Issue.record("a passphrase was asked: \(why)"); return passphrase("unused") }
    }

    @Test func anAppEncryptsInPlaceAndChangesThePassphraseAskedOnlyWhenNeeded() throws {
        // Given a plaintext replica holding a story not yet sent
        let path = TemporaryDirectory.path("replica.sqlite")
        let created = try Replica.create(at: path, server: URL(string: "http://127.0.0.1:1")!, token: "hvn_test")
        let id = try created.add(.story, values: Fixtures.story("Typed offline"))

        // Then opening it asks for no passphrase, and unlocking it is refused before asking
        _ = try Replica.open(at: path, passphrase: Self.neverAsked("the replica is plaintext"))
        let notEncrypted = #expect(throws: ClientError.self) {
            try Replica.unlock(at: path, passphrase: Self.neverAsked("unlock of a plaintext replica"))
        }
        #expect(notEncrypted?.message.contains("is not encrypted: run 'haven encrypt' first") == true)

        // When it is encrypted in place
        try Replica.encrypt(at: path) { Self.passphrase("first passphrase") }

        // Then encrypting again is refused before asking, and the passphrase opens it with the story
        #expect(throws: ClientError.self) { try Replica.encrypt(at: path, passphrase: Self.neverAsked("already encrypted")) }
        #expect(Replica.isEncrypted(at: path) == true)
        #expect(try Replica.open(at: path) { Self.passphrase("first passphrase") }.pendingChanges(limit: 10).count == 1)
        #expect(try Replica.open(at: path) { Self.passphrase("first passphrase") }.record(id).id == id)

        // When its passphrase is changed
        var unlocked = try Replica.unlock(at: path) { Self.passphrase("first passphrase") }
        try unlocked.changePassphrase(to: Self.passphrase("second passphrase"))

        // Then the old one is refused and the new one opens the same records
        let wrong = #expect(throws: ClientError.self) { try Replica.open(at: path) { Self.passphrase("first passphrase") } }
        #expect(wrong?.message.contains("wrong passphrase") == true)
        #expect(try Replica.open(at: path) { Self.passphrase("second passphrase") }.record(id).id == id)
    }

    @Test func theDuressPassphraseThroughTheAppsAPIOpensAnEmptyReplicaForTheSameServer() throws {
        // Given an encrypted replica with a story not yet sent, and a duress passphrase set
        let path = TemporaryDirectory.path("replica.sqlite")
        let server = URL(string: "http://127.0.0.1:1")!
        let replica = try Replica.createEncrypted(at: path, server: server, token: "hvn_test", passphrase: Self.passphrase("own"))
            .replica()
        _ = try replica.add(.story, values: Fixtures.story("Testimony"))
        var unlocked = try Replica.unlock(at: path) { Self.passphrase("own") }
        try unlocked.setDuress(Self.passphrase("duress"))

        // When the duress passphrase is typed where an app asks for the passphrase
        let opened = try Replica.open(at: path) { Self.passphrase("duress") }

        // Then what opens is an empty replica for the same server, and the own passphrase no longer opens anything
        #expect(try opened.records(.story).isEmpty)
        #expect(try opened.pendingChanges(limit: 10).isEmpty)
        #expect(try opened.settings().server == server)
        #expect(throws: ClientError.self) { try Replica.open(at: path) { Self.passphrase("own") } }
        #expect(try Replica.open(at: path) { Self.passphrase("duress") }.records(.story).isEmpty)
    }

    @Test func aKeyFileLeftWithoutItsReplicaDoesNotClaimANewOne() throws {
        // Given an encrypted replica whose file is gone, its key file left behind (a creation cut short)
        let path = TemporaryDirectory.path("replica.sqlite")
        let server = URL(string: "http://127.0.0.1:1")!
        _ = try Replica.createEncrypted(at: path, server: server, token: "hvn_test", passphrase: Self.passphrase("lost"))
        try FileManager.default.removeItem(atPath: path)
        #expect(Replica.hasKeyFile(at: path))

        // When a plaintext replica is created there
        _ = try Replica.create(at: path, server: server, token: "hvn_test")

        // Then the stale key file is gone, and the new replica opens without a passphrase
        #expect(!Replica.hasKeyFile(at: path))
        _ = try Replica.open(at: path, passphrase: Self.neverAsked("the new replica is plaintext"))
    }

    @Test func aPassphraseNeverShowsItsBytes() {
        let secret = Self.passphrase("a secret")
        #expect("\(secret)" == "(passphrase)")
        #expect(String(reflecting: secret) == "(passphrase)")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("97") && !dumped.contains("secret"), "\(dumped)")
        #expect(secret.matches(Self.passphrase("a secret")) && !secret.matches(Self.passphrase("another")))
    }
}
