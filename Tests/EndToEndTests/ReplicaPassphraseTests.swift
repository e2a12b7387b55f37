import Foundation
import HavenCore
import Testing
import TestSupport

/// An encrypted replica's passphrases through the real `haven`: a wrong one, the duress one, a
/// change, the export rule, and converting a plaintext replica (issue 13). Every `haven` here
/// gets the suite's passphrase (``TestPassphrase``) unless a `--passphrase-file` says otherwise.
@Suite(.serialized)
struct ReplicaPassphraseTests {
    struct Listed: Decodable { var id: String }

    @Test func aWrongPassphraseChangesNothingAndRepeatedOnesAreRefused() throws {
        // Given an encrypted replica with a story
        let directory = try TemporaryDirectory()
        let device = Device("field/replica", in: directory)
        try device.haven("init", "--server", "http://127.0.0.1:9", "--token", "hvn_test", "--offline")
        let id = try device.haven("stories", "add", "--title", "Kept", "--body", "Safe.", "--language", "en")
        let before = try databaseBytes(device)
        let wrong = try directory.write("not the passphrase", to: "wrong.txt")

        // When a wrong passphrase is given three times
        var results: [ProcessResult] = []
        for _ in 1...3 { results.append(try device.havenResult(["stories", "list", "--passphrase-file", wrong])) }

        // Then each is refused in words, the third says the next try must wait, and the replica is untouched
        for result in results {
            #expect(result.status != 0)
            #expect(result.stderr.contains("wrong passphrase for the replica \(device.replica): nothing was changed"))
        }
        #expect(results[2].stderr.contains("the next try is allowed in 30 s"))
        #expect(try databaseBytes(device) == before)

        // And even the right passphrase is refused until then, without being judged
        let refused = try device.havenResult(["stories", "list"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("too many wrong passphrases in a row: the next try is allowed in"))

        // When the stored time has passed, a fourth wrong one doubles the wait, and then the right one opens it
        try setRefusedUntil(0, device)
        #expect(try device.havenResult(["status", "--passphrase-file", wrong]).stderr.contains("allowed in 60 s"))
        try setRefusedUntil(0, device)
        #expect(try device.json([Listed].self, "stories", "list").map(\.id) == [id])
        #expect(try keyFile(device)["attempts"] as? [String: Int] == ["failures": 0, "refusedUntil": 0])
    }

    @Test func theDuressPassphraseLeavesAFreshReplicaAndNothingOfTheOld() throws {
        // Given an encrypted replica that synced stories with English and Korean phrases, and a duress passphrase
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let token = try server.token(role: "editor", name: "field")
        let device = Device("field/replica", in: directory)
        try device.haven("init", "--server", server.url, "--token-file", directory.write(token, to: "token.txt"))
        let phrases = ["Crossing at Tumen", "두만강을 건넜다"]
        try device.haven("stories", "add", "--title", phrases[0], "--body", phrases[1], "--language", "ko")
        try device.haven("sync")
        let keyFileBefore = try keyFile(device)
        let duress = try directory.write("the river is calm", to: "duress.txt")
        try device.haven("duress", "set", "--new-passphrase-file", duress)

        // Then the key file does not show that one was set: same fields, same slot sizes
        let keyFileAfter = try keyFile(device)
        #expect(Set(keyFileAfter.keys) == Set(keyFileBefore.keys))
        #expect((keyFileAfter["slots"] as? [String])?.map(\.count) == (keyFileBefore["slots"] as? [String])?.map(\.count))

        // When someone forces the duress passphrase out of its holder and lists the stories
        let listed = try device.havenResult(["stories", "list", "--json", "--passphrase-file", duress])

        // Then it answers as an empty replica, saying nothing of what happened
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(try JSONDecoder().decode([Listed].self, from: Data(listed.stdout.utf8)).isEmpty)
        for word in ["wipe", "duress", "destroy", "erase", "delete"] {
            #expect(!(listed.stdout + listed.stderr).lowercased().contains(word))
        }

        // And nothing of the old replica is left under its directory, nor the token
        let hits = try scan(directory.path("field"), for: phrases + [token])
        #expect(hits.isEmpty, "found \(hits)")

        // And it is a freshly made replica for the same server, whose passphrase is the duress one
        let status = try device.havenResult(["status", "--passphrase-file", duress]).stdout
        #expect(status.contains("syncs with \(server.url)"))
        #expect(status.contains("It is encrypted"))
        #expect(status.contains("It holds 0 stories and 0 resources."))
        #expect(status.contains("Nothing is waiting to be sent."))
        #expect(status.contains("Never synced"))
        #expect(try device.havenResult(["status"]).stderr.contains("wrong passphrase"))

        // And its token is not the person's: the server refuses it, as a revoked token's
        let sync = try device.havenResult(["sync", "--retry-for", "0", "--passphrase-file", duress])
        #expect(sync.status != 0)
        #expect(sync.stderr.contains("the token is unknown, expired or revoked"))
    }

    @Test func aPassphraseChangeRewrapsTheKeyAndRewritesNoRecord() throws {
        // Given an encrypted replica with a story and a duress passphrase
        let directory = try TemporaryDirectory()
        let device = Device("replica", in: directory)
        try device.haven("init", "--server", "http://127.0.0.1:9", "--token", "hvn_test", "--offline")
        let id = try device.haven("stories", "add", "--title", "Kept", "--body", "Safe.", "--language", "en")
        let duress = try directory.write("the river is calm", to: "duress.txt")
        try device.haven("duress", "set", "--new-passphrase-file", duress)
        let before = try databaseBytes(device)

        // When its passphrase is changed
        let new = try directory.write("a new passphrase", to: "new.txt")
        #expect(try device.haven("passphrase", "change", "--new-passphrase-file", new).contains("passphrase changed"))

        // Then the old one fails, the new one opens the same records, and the database was not rewritten
        #expect(try device.havenResult(["status"]).stderr.contains("wrong passphrase"))
        #expect(try databaseBytes(device) == before)
        let listed = try device.havenResult(["stories", "list", "--json", "--passphrase-file", new])
        #expect(try JSONDecoder().decode([Listed].self, from: Data(listed.stdout.utf8)).map(\.id) == [id])

        // And the duress passphrase still works
        let underDuress = try device.havenResult(["stories", "list", "--json", "--passphrase-file", duress])
        #expect(try JSONDecoder().decode([Listed].self, from: Data(underDuress.stdout.utf8)).isEmpty)
    }

    @Test func anEncryptedReplicaExportsPlaintextOnlyWhenTold() throws {
        let directory = try TemporaryDirectory()
        let device = Device("replica", in: directory)
        try device.haven("init", "--server", "http://127.0.0.1:9", "--token", "hvn_test", "--offline")
        try device.haven("stories", "add", "--title", "Kept", "--body", "Safe.", "--language", "en")

        let refused = try device.havenResult(["export", "pack.json"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("the replica is encrypted, and an export is plaintext"))
        #expect(refused.stderr.contains("Add --plaintext to write it anyway"))
        #expect(!FileManager.default.fileExists(atPath: directory.path("pack.json")))

        #expect(try device.haven("export", "pack.json", "--plaintext") == "exported 1 records to pack.json")
    }

    @Test func wipingAnEncryptedReplicaDestroysItsKeyFirstWithoutAskingThePassphrase() throws {
        // Given an encrypted replica in a directory of its own
        let directory = try TemporaryDirectory()
        let device = Device("field/replica", in: directory)
        try device.haven("init", "--server", "http://127.0.0.1:9", "--token", "hvn_test", "--offline")
        try device.haven("stories", "add", "--title", "Kept", "--body", "Safe.", "--language", "en")

        // When it is wiped with no passphrase at hand
        let wiped = try run(
            Binaries.url("haven"), ["wipe", "--yes", "--json"],
            environment: ["HAVEN_REPLICA": device.replica, "HAVEN_PASSPHRASE_FILE": ""], in: directory)

        // Then the key file went first, and nothing is left
        #expect(wiped.status == 0, "\(wiped.stderr)")
        struct Report: Decodable { var removedFiles: [String]; var encrypted: Bool }
        let report = try JSONDecoder().decode(Report.self, from: Data(wiped.stdout.utf8))
        #expect(report.encrypted)
        #expect(report.removedFiles.first == device.replica + ".key")
        #expect(!FileManager.default.fileExists(atPath: directory.path("field")))
    }

    @Test func encryptingAPlaintextReplicaKeepsItsUnsentChanges() throws {
        // Given a plaintext replica with a story not sent yet
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let device = Device("field", in: directory)
        try device.haven("init", "--no-encryption", "--server", server.url, "--token", server.token(role: "editor", name: "field"))
        #expect(try device.haven("status").contains("It is not encrypted"))
        try device.haven("stories", "add", "--title", "Written offline", "--body", "Unsent.", "--language", "en")

        // When it is encrypted in place
        #expect(try device.haven("encrypt").contains("encrypted the replica"))

        // Then it asks for the passphrase, still holds the unsent story, and sends it
        let status = try device.haven("status")
        #expect(status.contains("It is encrypted"))
        #expect(status.contains("1 change is waiting to be sent"))
        #expect(try device.havenResult(["status", "--passphrase-file", directory.write("wrong", to: "wrong.txt")])
            .stderr.contains("wrong passphrase"))
        #expect(try device.haven("sync").contains("pushed 1 change (1 applied)"))
        let desk = Device("desk", in: directory)
        try desk.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "desk"))
        try desk.haven("sync")
        #expect(try desk.haven("stories", "list").contains("Written offline"))
        #expect(try device.havenResult(["encrypt"]).stderr.contains("already encrypted"))
    }

    @Test func aPassphraseIsNeverTakenFromNowhere() throws {
        let directory = try TemporaryDirectory()
        let device = Device("replica", in: directory)
        try device.haven("init", "--server", "http://127.0.0.1:9", "--token", "hvn_test", "--offline")

        // No file, no descriptor, no terminal: the error says how to give one
        let none = try run(
            Binaries.url("haven"), ["status"], environment: ["HAVEN_REPLICA": device.replica, "HAVEN_PASSPHRASE_FILE": ""],
            in: directory)
        #expect(none.status != 0)
        #expect(none.stderr.contains("there is no terminal to ask it on: give it with --passphrase-file FILE"))

        // An empty passphrase is refused when a replica is made, and nothing is made
        let other = Device("other", in: directory)
        let empty = try other.havenResult([
            "init", "--server", "http://127.0.0.1:9", "--token", "hvn_test", "--offline", "--passphrase-file", "/dev/null",
        ])
        #expect(empty.stderr.contains("an empty passphrase protects nothing"))
        #expect(!FileManager.default.fileExists(atPath: other.replica))

        // A descriptor works as a file does
        let fromDescriptor = try device.havenResult(["status", "--passphrase-fd", "0"], input: Data(TestPassphrase.text.utf8))
        #expect(fromDescriptor.status == 0, "\(fromDescriptor.stderr)")
    }

    // MARK: Helpers

    /// The replica's database and its WAL, as they are on disk.
    private func databaseBytes(_ device: Device) throws -> [Data?] {
        [device.replica, device.replica + "-wal"].map { FileManager.default.contents(atPath: $0) }
    }

    private func keyFile(_ device: Device) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: device.replica + ".key"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Writes into the key file that tries are refused until `time` (seconds since 1970).
    private func setRefusedUntil(_ time: Int, _ device: Device) throws {
        var file = try keyFile(device)
        var attempts = try #require(file["attempts"] as? [String: Int])
        attempts["refusedUntil"] = time
        file["attempts"] = attempts
        try JSONSerialization.data(withJSONObject: file).write(to: URL(fileURLWithPath: device.replica + ".key"))
    }
}

extension TemporaryDirectory {
    /// Writes `text` and a line end to the file `name` here; returns its path.
    func write(_ text: String, to name: String) throws -> String {
        let path = path(name)
        try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Every file under `directory` searched for each phrase as UTF-8, lowercased, UTF-16 LE and
/// BE; the hits as "file: phrase (form)".
func scan(_ directory: String, for phrases: [String]) throws -> [String] {
    var needles: [(String, Data)] = []
    for phrase in phrases {
        for (form, text) in [("as typed", phrase), ("lowercased", phrase.lowercased())] {
            needles.append(("\(phrase) (\(form), UTF-8)", Data(text.utf8)))
            needles.append(("\(phrase) (\(form), UTF-16LE)", text.data(using: .utf16LittleEndian)!))
            needles.append(("\(phrase) (\(form), UTF-16BE)", text.data(using: .utf16BigEndian)!))
        }
    }
    var hits: [String] = []
    let files = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
    for file in files {
        guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
        for (name, needle) in needles where data.range(of: needle) != nil { hits.append("\(file): \(name)") }
    }
    return hits
}
