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
///
/// The moments come from what the sync has done, never from the clock: a proxy between the
/// client and the server holds the link once the server's log holds a seeded number of this
/// replica's changes (pushing) or once the replica's cursor passes a seeded position (pulling),
/// just before a request goes out or its answer comes back; or the test stops the client while a
/// probe sees it holding the replica's write lock with nothing left to push (applying a page).
/// A kill therefore lands at the same point of the sync on a fast machine and on a loaded one.
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

    /// Changes per push and records per page.
    static let batch = 10
    static let page = 100

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
        // Plaintext: the test reads the replica's tables itself.
        try field.haven("init", "--no-encryption", "--server", proxy.url, "--token", server.token(role: "editor", name: "field"))
        try field.haven("sync")
        let desk = Device("desk", in: directory)
        try desk.haven("init", "--no-encryption", "--server", server.url, "--token", server.token(role: "editor", name: "desk"))
        let existing = pack.records.map(\.id)
        var random = SplitMix64(seed: 50)
        var titles: [String: String] = [:]  // The title each record must end with.

        // and offline edits on the replica, while another device adds stories on the server
        var saved = try makeEdits(
            field, cliAdds: 10, cliEdits: 10, adds: 400, edits: 150, existing: existing, titles: &titles,
            random: &random)
        try addStories(desk, count: 500, random: &random)
        let replicaID = try Replica.open(at: field.replica).settings().replicaID.rawValue

        // When `haven sync` is killed at 50 seeded moments of its progress, restarted each time
        let probe = try WriteProbe(replica: field.replica)
        let progress = try Progress(server: server, replica: field.replica, replicaID: replicaID)
        var kills: [Phase: Int] = [:]
        var completions = 0
        for _ in 0..<200 where kills.values.reduce(0, +) < 50 {
            // A seeded phase to aim at, with enough work ahead for the run to reach it
            let aimedAt = random.pick([Phase.push, .pull, .apply])
            if aimedAt == .push && progress.unsent() <= 2 * Self.batch {
                saved.formUnion(
                    try makeEdits(
                        field, cliAdds: 1, cliEdits: 1, adds: 40, edits: 20, existing: existing, titles: &titles,
                        random: &random))
            }
            if aimedAt != .push && progress.head() - progress.pulledTo() < 2 * Self.page {
                try addStories(desk, count: 3 * Self.page, random: &random)
            }
            let aim = Aim.pick(aimedAt, progress, batch: Self.batch, page: Self.page, &random)
            switch aim {
            case .push(let target, let direction):
                proxy.hold { way in way == direction && progress.onServer() >= target }
            case .pull(let target, let direction):
                proxy.hold { way in way == direction && progress.unsent() == 0 && progress.pulledTo() >= target }
            case .apply:
                proxy.disarm()
            }
            let before = proxy.counters()
            let sync = try launch(
                Binaries.url("haven"), ["sync", "--batch-size", "\(Self.batch)", "--page-size", "\(Self.page)"],
                environment: ["HAVEN_REPLICA": field.replica], in: directory)
            let writing = try waitForMoment(aim, of: sync.process, proxy: proxy, probe: probe)
            let atKill = proxy.counters()
            guard sync.process.isRunning else {
                // The run finished first (its moment lay beyond what it had to do): check it.
                sync.process.waitUntilExit()
                #expect(sync.result().status == 0, "sync failed: \(sync.result().stderr)")
                completions += 1
                continue
            }
            kill(sync.process.processIdentifier, SIGKILL)
            sync.process.waitUntilExit()
            // Nothing crossed the link after the hold: what is on the server is final.
            proxy.release(resetting: true)

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

    /// The moment a run is to be killed at, picked before it starts from where the sync stands.
    enum Aim {
        /// Once the server's log holds `target` changes of this replica, at the next chunk going
        /// `direction`: a request not yet sent, or an answer not yet received.
        case push(target: Int, direction: FaultProxy.Direction)
        /// Once nothing is left to push and the replica's cursor has reached `target`, at the next
        /// chunk going `direction`.
        case pull(target: Int, direction: FaultProxy.Direction)
        /// Inside a transaction that applies a page: the replica's write lock held with nothing
        /// left to push.
        case apply

        /// A seeded moment of `phase` that the coming run reaches: a push target short of its
        /// last batch, a pull target within the first two thirds of what it will pull.
        static func pick(_ phase: Phase, _ progress: Progress, batch: Int, page: Int, _ random: inout SplitMix64) -> Aim {
            let direction: FaultProxy.Direction = random.chance(50) ? .toServer : .toClient
            switch phase {
            case .push:
                let unsent = progress.unsent()
                return .push(target: progress.onServer() + random.int(in: 0...max(0, unsent - batch - 1)), direction: direction)
            case .pull:
                // What the run will pull: what is on the server beyond the cursor, and its own pushes.
                let pulledTo = progress.pulledTo()
                let toPull = max(0, progress.head() + progress.unsent() - pulledTo)
                return .pull(target: pulledTo + random.int(in: 0...max(0, toPull * 2 / 3 - page)), direction: direction)
            case .apply, .startup:
                return .apply
            }
        }
    }

    /// Waits until `sync` reaches `aim` or ends, and returns whether it was inside a write
    /// transaction on the replica when it was stopped there.
    ///
    /// A hold stops the client on the link. For a page being applied, the client is stopped with
    /// SIGSTOP the moment the probe sees its write lock, and looked at while it cannot move: if
    /// the transaction ended in between, it goes on to the next one. Polled, not timed: the
    /// limit only stops a hang.
    private func waitForMoment(_ aim: Aim, of sync: Process, proxy: FaultProxy, probe: WriteProbe) throws -> Bool {
        let pid = sync.processIdentifier
        var writing = false
        do {
            try Polling.until("haven sync reaching its moment or ending", limit: 300) {
                guard sync.isRunning else { return true }
                guard case .apply = aim else { return proxy.isHolding }
                guard probe.isWriting(), probe.outboxIsEmpty() else { return false }
                kill(pid, SIGSTOP)
                try Polling.until("haven sync stopping", limit: 60) { !sync.isRunning || Self.isStopped(pid) }
                writing = probe.isWriting()
                if !writing { kill(pid, SIGCONT) }
                return writing
            }
        } catch {
            kill(pid, SIGKILL)
            sync.waitUntilExit()
            throw error
        }
        return writing
    }

    /// Whether process `pid` is stopped by a signal, as `/proc/PID/stat` tells (Linux).
    private static func isStopped(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.range(of: ") ", options: .backwards)
        else { return false }
        return stat[end.upperBound...].first == "T"
    }

    /// What the test reads of the server and the replica to pick its moments.
    struct Progress: Sendable {
        let server: DatabaseQueue
        let replica: Replica
        let outbox: DatabaseQueue
        let replicaID: String

        init(server: ServerProcess, replica: String, replicaID: String) throws {
            self.server = try server.readOnlyDatabase()
            self.replica = try Replica.open(at: replica)
            self.outbox = try DatabaseQueue(path: replica)
            self.replicaID = replicaID
        }

        /// This replica's changes in the server's log.
        func onServer() -> Int {
            (try? server.read { db in
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM change_log WHERE change_id LIKE ?", arguments: ["\(replicaID)-%"])
            }) ?? 0
        }

        /// The last position of the server's log.
        func head() -> Int {
            (try? server.read { db in try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM change_log") }) ?? 0
        }

        /// Changes in the replica's outbox.
        func unsent() -> Int {
            (try? outbox.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") }) ?? 0
        }

        /// The log position the replica has pulled to.
        func pulledTo() -> Int {
            guard let cursor = try? replica.settings().cursor else { return 0 }
            return Int(cursor.position ?? cursor.seq)
        }
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
