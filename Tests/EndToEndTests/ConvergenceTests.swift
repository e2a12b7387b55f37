import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

/// Two real `haven` processes on two replicas, editing offline and converging through a real
/// `haven-server` (issue: the first end-to-end sync).
@Suite(.serialized)
struct ConvergenceTests {
    /// `haven stories show --json`.
    struct Shown: Decodable {
        var id: String
        var deleted: Bool
        var fields: [String: JSONValue]
    }

    @Test func offlineEditsOnTwoReplicasConverge() throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let alice = Device("alice", in: directory)
        let bora = Device("bora", in: directory)
        // Plaintext: the test reads the replica's tables itself.
        try alice.haven("init", "--no-encryption", "--server", server.url, "--token", server.token(role: "editor", name: "alice"))
        try bora.haven("init", "--no-encryption", "--server", server.url, "--token", server.token(role: "editor", name: "bora"))
        func show(_ device: Device, _ id: String) throws -> Shown { try device.json(Shown.self, "stories", "show", id) }
        func syncBoth() throws {
            try alice.haven("sync")
            try bora.haven("sync")
        }

        // Given a story that both replicas hold
        let story = try alice.haven(
            "stories", "add", "--title", "Crossing the Tumen", "--body", "First draft.", "--language", "en",
            "--summary", "A short account.")
        try syncBoth()
        #expect(try show(bora, story).fields["title"] == "Crossing the Tumen")

        // When both edit different fields offline, then both are kept on both
        try alice.haven("stories", "edit", story, "--title", "Crossing the Tumen river")
        try bora.haven("stories", "edit", story, "--summary", "An account of the crossing.")
        try syncBoth()
        try alice.haven("sync")
        for device in [alice, bora] {
            let shown = try show(device, story)
            #expect(shown.fields["title"] == "Crossing the Tumen river")
            #expect(shown.fields["summary"] == "An account of the crossing.")
        }

        // When both edit the same field, the later stamp wins on both and the loser hears of it,
        // whichever write reaches the server first. (Bora writes once the wall clock has passed
        // Alice's stamp, so that his stamp is the later one.)
        try alice.haven("stories", "edit", story, "--body", "Alice's version.")
        try waitUntilClockPasses(alice, story, "body")
        try bora.haven("stories", "edit", story, "--body", "Bora's version.")
        try bora.haven("sync")  // the winner first: Alice's write arrives late and loses
        try alice.haven("stories", "edit", story, "--region", "Yanbian")
        try waitUntilClockPasses(alice, story, "region")
        try bora.haven("stories", "edit", story, "--region", "Northeast China")
        try alice.haven("sync")  // the loser first: Bora's later write overwrites it
        try bora.haven("sync")
        try alice.haven("sync")
        for device in [alice, bora] {
            let shown = try show(device, story)
            #expect(shown.fields["body"] == "Bora's version.")
            #expect(shown.fields["region"] == "Northeast China")
        }
        let aliceConflicts = try alice.json([Conflict].self, "conflicts")
        #expect(
            aliceConflicts.contains {
                $0.recordID == story && $0.field == "body" && $0.value == "Alice's version." && $0.winnerAuthor == "bora"
            })
        #expect(aliceConflicts.contains { $0.recordID == story && $0.field == "region" && $0.value == "Yanbian" })
        #expect(try bora.json([Conflict].self, "conflicts").isEmpty)

        // When one deletes while the other edits (in both arrival orders), the delete sticks on
        // both and the edit is reported to its author.
        let first = try alice.haven("stories", "add", "--title", "To delete", "--body", "B", "--language", "ko")
        let second = try alice.haven("stories", "add", "--title", "Also to delete", "--body", "B", "--language", "ko")
        try syncBoth()
        try alice.haven("stories", "delete", first)
        try alice.haven("stories", "delete", second)
        try bora.haven("stories", "edit", first, "--title", "Edited offline")
        try bora.haven("stories", "edit", second, "--title", "Edited offline too")
        try bora.haven("sync", "--batch-size", "1")
        try alice.haven("sync")
        try bora.haven("sync")
        for device in [alice, bora] {
            #expect(try show(device, first).deleted)
            #expect(try show(device, second).deleted)
            #expect(!(try device.haven("stories", "list")).contains(first))
        }
        let boraConflicts = try bora.json([Conflict].self, "conflicts")
        #expect(boraConflicts.contains { $0.recordID == first && $0.reason == .deleted && $0.winnerAuthor == "alice" })
        #expect(boraConflicts.contains { $0.recordID == second && $0.reason == .deleted })

        // When Alice restores, the record is back on both, with Bora's edit that landed on the tombstone.
        try alice.haven("stories", "restore", first)
        try syncBoth()
        for device in [alice, bora] {
            let shown = try show(device, first)
            #expect(!shown.deleted)
            #expect(shown.fields["title"] == "Edited offline")
        }

        // Then after two syncs each, both replicas export the same bytes.
        try syncBoth()
        try syncBoth()
        try alice.haven("export", "--plaintext", directory.path("alice.json"))
        try bora.haven("export", "--plaintext", directory.path("bora.json"))
        let aliceExport = try Data(contentsOf: URL(fileURLWithPath: directory.path("alice.json")))
        let boraExport = try Data(contentsOf: URL(fileURLWithPath: directory.path("bora.json")))
        #expect(aliceExport == boraExport)
        #expect(try ContentPack.decode(aliceExport).records.count == 2)  // the story and the restored one
    }

    /// Waits until the wall clock, in milliseconds, is past the stamp of `field` of `record` on
    /// `device`'s replica: any stamp issued from now on is later than that one.
    private func waitUntilClockPasses(_ device: Device, _ record: String, _ field: String) throws {
        let state = try DatabaseQueue(path: device.replica).read { db in
            try String.fetchOne(db, sql: "SELECT state FROM records WHERE id = ?", arguments: [record])
        }
        let text = try #require(state, "no record \(record)")
        let stamp = try #require(try JSONDecoder().decode(RecordState.self, from: Data(text.utf8)).fields[field]?.stamp)
        try Polling.until("the wall clock passing \(stamp)", limit: 60) {
            HybridLogicalClock.systemWallClock() > stamp.physical
        }
    }

    @Test func aWrongTokenIsReportedWithWhatToDo() throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let device = Device("device", in: directory)
        let refused = try device.havenResult(["init", "--server", server.url, "--token", "hvn_not-a-real-token"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("\(server.url) is a Haven server, but it refused the token"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: device.replica))
        try device.haven("init", "--server", server.url, "--token", "hvn_not-a-real-token", "--offline")
        let result = try device.havenResult(["sync"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("401"))
        #expect(result.stderr.contains("ask an admin for a new one"))
    }
}
