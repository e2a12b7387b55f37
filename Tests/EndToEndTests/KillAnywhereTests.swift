import FaultProxy
import Foundation
import GRDB
import HavenClient
import HavenCore
import Testing
import TestSupport

/// `haven sync` killed with SIGKILL at 50 seeded moments spread over push, pull and page apply,
/// through a link with latency: every edit reported as saved reaches the server exactly once,
/// the replica passes `PRAGMA integrity_check` after every kill, and it ends equal to the server
/// (issue 5, "Done when"; KilledSyncTests is the simpler push-only version).
@Suite(.serialized)
struct KillAnywhereTests {
    /// Where a kill landed, judged at the moment of the kill.
    enum Phase: String, CaseIterable {
        /// Before the run sent anything.
        case startup
        /// The outbox was not yet empty: sending a batch, or recording the server's answer.
        case push
        /// Waiting for a page, or reading one.
        case pull
        /// Inside the transaction that applies a page: the replica's write lock was held.
        case apply
    }

    @Test func syncKilledAtFiftyMomentsLosesAndDuplicatesNothing() throws {
        // Given a server with 300 stories, a replica holding them, and a link with 30 ms each way
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        let pack = SamplePack.make(stories: 300, resources: 0, seed: 31)
        try SamplePack.importPack(pack, into: server)
        try server.start()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port, profile: .init(latency: 0.03))
        defer { proxy.stop() }
        let field = Device("field", in: directory)
        try field.haven("init", "--server", proxy.url, "--token", server.token(role: "editor", name: "field"))
        try field.haven("sync")
        let desk = Device("desk", in: directory)
        try desk.haven("init", "--server", server.url, "--token", server.token(role: "editor", name: "desk"))
        let existing = pack.records.map(\.id)
        var random = SplitMix64(seed: 50)
        var titles: [String: String] = [:]  // The title each record must end with.

        // and offline edits on the replica, while another device adds stories on the server
        var saved = try makeEdits(
            field, cliAdds: 10, cliEdits: 10, adds: 400, edits: 150, existing: existing, titles: &titles,
            random: &random)
        try addStories(desk, count: 500, random: &random)
        let replicaID = try Replica.open(at: field.replica).settings().replicaID.rawValue

        // When `haven sync` is killed at 50 random moments, restarted each time; about one in
        // three moments that fall after the push waits on from there for a page being applied
        let probe = try WriteProbe(replica: field.replica)
        var kills: [Phase: Int] = [:]
        var completions = 0
        for _ in 0..<200 where kills.values.reduce(0, +) < 50 {
            let before = proxy.counters()
            let sync = try launch(
                Binaries.url("haven"), ["sync", "--batch-size", "10", "--page-size", "100"],
                environment: ["HAVEN_REPLICA": field.replica], in: directory)
            let moment = Date().addingTimeInterval(0.1 + Double(random.next() % 500) / 1_000)
            while sync.process.isRunning && Date() < moment { Thread.sleep(forTimeInterval: 0.002) }
            if random.next() % 3 == 0 && probe.outboxIsEmpty() {
                let deadline = Date().addingTimeInterval(3)
                while sync.process.isRunning && Date() < deadline && !(probe.isWriting() && probe.outboxIsEmpty()) {
                    Thread.sleep(forTimeInterval: 0.001)
                }
            }
            let writing = probe.isWriting()
            let atKill = proxy.counters()
            guard sync.process.isRunning else {
                // The run finished first: check it, then give the next runs more to do.
                #expect(sync.result().status == 0, "sync failed: \(sync.result().stderr)")
                completions += 1
                saved.formUnion(
                    try makeEdits(
                        field, cliAdds: 1, cliEdits: 1, adds: 60, edits: 20, existing: existing, titles: &titles,
                        random: &random))
                try addStories(desk, count: 60, random: &random)
                continue
            }
            kill(sync.process.processIdentifier, SIGKILL)
            sync.process.waitUntilExit()

            // Then the replica is intact and every saved edit is either unsent or on the server
            let replica = try replicaState(field)
            #expect(
                replica.integrity == "ok",
                "integrity check after kill \(kills.values.reduce(0, +) + 1): \(replica.integrity ?? "nil")")
            let onServer = try serverChangeCounts(server, replicaID: replicaID)
            let lost = saved.subtracting(replica.unsent).subtracting(onServer.keys)
            #expect(lost.isEmpty, "\(lost.count) saved edits are neither unsent nor on the server")
            let sentNothing = atKill.toServer == before.toServer && atKill.inFlight == 0
            let phase: Phase =
                !replica.unsent.isEmpty ? .push : writing ? .apply : sentNothing ? .startup : .pull
            kills[phase, default: 0] += 1
        }
        print(
            "kill anywhere: kills by phase \(Phase.allCases.map { "\($0.rawValue) \(kills[$0] ?? 0)" }.joined(separator: ", ")); \(completions) run(s) completed before their kill; \(saved.count) saved edits"
        )

        // When a last sync runs to completion
        var finished = false
        for _ in 0..<5 where !finished {
            finished = try field.havenResult(["sync"]).status == 0
        }
        #expect(finished, "the last sync never completed")

        // Then the kills landed in every phase
        #expect(kills.values.reduce(0, +) == 50)
        for phase in [Phase.push, .pull, .apply] {
            #expect(kills[phase, default: 0] >= 5, "only \(kills[phase, default: 0]) kills during \(phase)")
        }
        // and every saved edit is on the server exactly once, with nothing else from this replica
        let onServer = try serverChangeCounts(server, replicaID: replicaID)
        #expect(
            Set(onServer.keys) == saved, "\(saved.subtracting(onServer.keys).count) saved edits missing on the server")
        #expect(onServer.values.allSatisfy { $0 == 1 }, "some edits are on the server more than once")
        // and the replica equals the server, register for register, with the last title of
        // every edited record
        let final = try replicaState(field)
        #expect(final.integrity == "ok")
        #expect(final.unsent.isEmpty)
        let held = try replicaRecords(field)
        let truth = try server.records()
        let differing = truth.keys.filter { held[$0] != truth[$0] }.count + held.keys.filter { truth[$0] == nil }.count
        #expect(differing == 0, "\(differing) of \(truth.count) records differ between the replica and the server")
        let wrongTitles = titles.filter { held[$0.key]?.fields["title"]?.value != .string($0.value) }
        #expect(wrongTitles.isEmpty, "\(wrongTitles.count) records lack their last title")
    }

    /// Makes edits on `device`'s replica, some through the `haven` binary, the bulk through
    /// `Replica`, and returns the ids of the changes they queued.
    private func makeEdits(
        _ device: Device, cliAdds: Int, cliEdits: Int, adds: Int, edits: Int, existing: [String],
        titles: inout [String: String], random: inout SplitMix64
    ) throws -> Set<String> {
        let queuedBefore = try replicaState(device).unsent
        for index in 0..<cliAdds {
            let title = "Typed offline \(titles.count) \(index)"
            let id = try device.haven(
                "stories", "add", "--title", title, "--body", SamplePack.body(&random, bytes: 1_500), "--language", "ko"
            )
            titles[id] = title
        }
        for _ in 0..<cliEdits {
            let id = existing[Int(random.next() % UInt64(existing.count))]
            let title = "Retitled offline \(random.next() % 1_000_000)"
            #expect(try device.haven("stories", "edit", id, "--title", title) == "saved: title")
            titles[id] = title
        }
        let replica = try Replica.open(at: device.replica)
        for _ in 0..<adds {
            let title = "Written offline \(random.next() % 1_000_000)"
            let id = try replica.add(
                .story,
                values: [
                    "title": .string(title),
                    "body": .string(SamplePack.body(&random, bytes: 1_024 + Int(random.next() % 3_072))),
                    "language": "en", "status": "published",
                ])
            titles[id] = title
        }
        for _ in 0..<edits {
            let id = existing[Int(random.next() % UInt64(existing.count))]
            let title = "Edited offline \(random.next() % 1_000_000)"
            try replica.edit(
                id, values: ["title": .string(title), "summary": .string(SamplePack.sentence(&random, words: 10))])
            titles[id] = title
        }
        return try replicaState(device).unsent.subtracting(queuedBefore)
    }

    /// Stories added on another device and synced straight to the server, for the pull to fetch.
    private func addStories(_ device: Device, count: Int, random: inout SplitMix64) throws {
        let replica = try Replica.open(at: device.replica)
        for index in 0..<count {
            try replica.add(
                .story,
                values: [
                    "title": .string("From the desk \(index)"), "body": .string(SamplePack.body(&random, bytes: 2_048)),
                    "language": "ko", "status": "published",
                ])
        }
        try device.haven("sync")
    }

    /// Tells whether `haven` is inside a write transaction on the replica, by trying to start
    /// one without waiting.
    final class WriteProbe {
        let database: DatabaseQueue

        init(replica: String) throws {
            var configuration = Configuration()
            configuration.busyMode = .immediateError
            database = try DatabaseQueue(path: replica, configuration: configuration)
        }

        func isWriting() -> Bool {
            do {
                try database.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE; ROLLBACK") }
                return false
            } catch let error as DatabaseError {
                return error.resultCode == .SQLITE_BUSY
            } catch {
                return false
            }
        }

        func outboxIsEmpty() -> Bool {
            (try? database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") }) == 0
        }
    }

    struct ReplicaState {
        var integrity: String?
        /// Change ids in the outbox.
        var unsent: Set<String>
    }

    private func replicaState(_ device: Device) throws -> ReplicaState {
        try DatabaseQueue(path: device.replica).read { db in
            ReplicaState(
                integrity: try String.fetchOne(db, sql: "PRAGMA integrity_check"),
                unsent: Set(try String.fetchAll(db, sql: "SELECT change_id FROM outbox")))
        }
    }

    /// Every record in the replica, by id.
    private func replicaRecords(_ device: Device) throws -> [String: RecordState] {
        try DatabaseQueue(path: device.replica).read { db in
            Dictionary(
                uniqueKeysWithValues: try String.fetchAll(db, sql: "SELECT state FROM records").map { text in
                    let record = try JSONDecoder().decode(RecordState.self, from: Data(text.utf8))
                    return (record.id, record)
                })
        }
    }

    /// How many times each change of `replicaID` is in the server's log.
    private func serverChangeCounts(_ server: ServerProcess, replicaID: String) throws -> [String: Int] {
        try server.readOnlyDatabase().read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT change_id, COUNT(*) AS n FROM change_log WHERE change_id LIKE ? GROUP BY change_id",
                arguments: ["\(replicaID)-%"])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["change_id"] as String, $0["n"] as Int) })
        }
    }
}
