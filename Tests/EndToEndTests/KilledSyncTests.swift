import Foundation
import GRDB
import HavenClient
import HavenCore
import Testing
import TestSupport

/// `haven sync` killed with SIGKILL at random moments loses no local edit and duplicates no
/// change on the server.
@Suite(.serialized)
struct KilledSyncTests {
    @Test func syncKilledRepeatedlyLosesAndDuplicatesNothing() throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let device = Device("field", in: directory)
        try device.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "editor"))

        // Given 300 stories saved offline (through the library calls the CLI makes)
        let replica = try Replica.open(at: device.replica)
        var saved: Set<String> = []
        for index in 0..<300 {
            saved.insert(
                try replica.add(
                    .story, values: ["title": .string("Story \(index)"), "body": "Saved offline.", "language": "en"]))
        }

        // When sync is killed at random moments until one run completes
        var generator = SplitMix64(seed: 20_261_123)
        var kills = 0
        var partialKills = 0
        var completed = false
        for _ in 0..<80 where !completed {
            let sync = try launch(
                Binaries.url("haven"), ["sync", "--batch-size", "4", "--page-size", "20"],
                environment: ["HAVEN_REPLICA": device.replica], in: directory)
            Thread.sleep(forTimeInterval: Double(generator.next() % 700) / 1000 + 0.03)
            if sync.process.isRunning {
                kill(sync.process.processIdentifier, SIGKILL)
                sync.process.waitUntilExit()
                kills += 1
                let onServer = try serverCount(server, "SELECT COUNT(*) FROM change_log")
                if onServer > 0 && onServer < saved.count { partialKills += 1 }
            } else {
                sync.process.waitUntilExit()
                #expect(sync.result().status == 0, "sync failed: \(sync.result().stderr)")
                completed = true
            }
        }
        if !completed { try device.haven("sync") }

        // Then every saved edit is on the server exactly once, and the replica is intact.
        #expect(kills >= 3, "the test must interrupt syncs to mean anything")
        #expect(partialKills >= 1, "at least one kill must land in the middle of pushing")
        #expect(try serverCount(server, "SELECT COUNT(*) FROM change_log") == saved.count)
        #expect(try serverCount(server, "SELECT COUNT(DISTINCT change_id) FROM change_log") == saved.count)
        #expect(try serverIDs(server) == saved)
        let status = try replica.status()
        #expect(status.unsentChanges == 0)
        #expect(status.stories == saved.count)
        let check = try DatabaseQueue(path: device.replica).read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(check == "ok")
    }

    private func serverCount(_ server: ServerProcess, _ sql: String) throws -> Int {
        try readOnly(server).read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    private func serverIDs(_ server: ServerProcess) throws -> Set<String> {
        Set(try readOnly(server).read { db in try String.fetchAll(db, sql: "SELECT id FROM records") })
    }

    private func readOnly(_ server: ServerProcess) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: server.database, configuration: configuration)
    }
}
