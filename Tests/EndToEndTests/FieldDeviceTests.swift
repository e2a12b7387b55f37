import Foundation
import HavenCore
import Testing
import TestSupport

/// A field device with no link: the real `haven` imports the demo pack, searches it in Korean,
/// then wipes the replica (issue: search, content packs, wipe).
@Suite(.serialized)
struct FieldDeviceTests {
    /// `haven search --json`.
    struct Found: Decodable {
        var id: String
        var kind: String
        var languages: [String]
        var title: String
        var snippet: String
    }

    static let demoPack = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Content/demo-pack.json").path

    @Test func importSearchAndWipeOffline() throws {
        // Given a replica made offline for a server that is not reachable (nothing listens on port 9)
        let directory = try TemporaryDirectory()
        let device = Device("field", in: directory)
        // Plaintext, so that the wipe can count what it destroys; an encrypted replica's wipe
        // counts nothing, as it never asks the passphrase (ReplicaPassphraseTests).
        try device.haven("init", "--no-encryption", "--server", "http://127.0.0.1:9", "--token", "field-token", "--offline")
        let records = try ContentPack.decode(Data(contentsOf: URL(fileURLWithPath: Self.demoPack))).records

        // When it imports the demo pack, twice
        let imported = try device.haven("import", Self.demoPack)
        let again = try device.haven("import", Self.demoPack)

        // Then every record is an unsent change, once
        #expect(
            imported.hasPrefix("imported \(Self.demoPack): \(records.count) added, 0 updated, 0 unchanged"),
            "\(imported)")
        #expect(again == "imported \(Self.demoPack): 0 added, 0 updated, \(records.count) unchanged")
        #expect(try device.haven("status").contains("\(records.count) changes are waiting to be sent"))

        // When a person searches for a two-syllable Korean word
        let text = try device.haven("search", "탈북", "--limit", "5")
        let found = try device.json([Found].self, "search", "탈북", "--limit", "50")
        let stories = try device.json(
            [Found].self, "search", "탈북", "--kind", "story", "--language", "ko", "--limit", "50")

        // Then Korean stories and resources are found, titles holding the word first, with snippets
        let expected = records.filter { record in
            record.fields.values.contains { $0.stringValue?.contains("탈북") == true }
        }
        #expect(found.count == expected.count, "\(found.map(\.title))")
        #expect(found.first?.title.contains("탈북") == true)
        #expect(found.contains { $0.kind == "resource" })
        #expect(stories.allSatisfy { $0.kind == "story" && $0.languages == ["ko"] })
        #expect(!stories.isEmpty && stories.count < found.count)
        #expect(found.allSatisfy { $0.title.contains("탈북") || $0.snippet.contains("탈북") })
        let lines = text.split(separator: "\n")
        #expect(lines.filter { !$0.hasPrefix(" ") }.count == 5, "\(text)")
        #expect(lines.first?.hasPrefix(found[0].id) == true)
        #expect(lines.first?.hasSuffix(found[0].title) == true)
        #expect(try device.haven("search", "하나원", "--language", "en").contains("Ministry of Unification"))
        #expect(try device.haven("search", "zzzqqq") == "no matches for zzzqqq")

        // When it is asked to wipe without --yes
        let refused = try device.havenResult(["wipe"])

        // Then it refuses, says what it would destroy, and deletes nothing
        #expect(refused.status != 0)
        #expect(
            refused.stderr.contains(
                "this would destroy \(device.replica): \(records.count) records and \(records.count) unsent changes"))
        #expect(refused.stderr.contains("run 'haven wipe --yes'"))
        #expect(FileManager.default.fileExists(atPath: device.replica))

        // When it wipes with --yes (the time it takes is in BENCHMARKS.md, section 6)
        let wiped = try device.haven("wipe", "--yes")

        // Then the replica is gone, with the count of what was lost (and, should a loaded machine
        // run out of the second it has to overwrite the files first, a line that says so)
        #expect(
            wiped.split(separator: "\n").first
                == "wiped \(device.replica): destroyed \(records.count) records and \(records.count) unsent changes (never sent to the server)"
        )
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(!left.contains { $0.hasPrefix("field.sqlite") }, "\(left)")
        let status = try device.havenResult(["status"])
        #expect(status.status != 0)
        #expect(status.stderr.contains("no replica at \(device.replica)"))
    }
}
