import FaultProxy
import Foundation
import GRDB
import HavenClient
import HavenCore
import Synchronization
import Testing
import TestSupport

/// `haven sync` killed with SIGKILL at seeded moments of its progress loses no local edit and
/// duplicates no change on the server.
///
/// The moments come from what the sync has done, never from the clock: a proxy between the
/// client and the server holds the link when the server's change log passes a seeded target
/// (while pushing: just before a request goes out or its answer comes back), or when the
/// streamed download has brought a seeded number of bytes (while pulling: the stream is one
/// answer, applied page by page as it arrives); the test then kills the waiting client. A kill
/// therefore lands at the same point of the sync on a fast machine and on a loaded one.
@Suite(.serialized)
struct KilledSyncTests {
    /// Where a kill landed, as the server and the replica tell it after the kill.
    struct Kill: CustomStringConvertible {
        var direction: FaultProxy.Direction
        /// The target the hold waited for: rows in the change log, or a pull position.
        var target: Int
        var onServer: Int
        var unsent: Int
        var pulledTo: Int

        var duringPush: Bool { onServer > 0 && unsent > 0 }
        var description: String {
            "\(direction == .toServer ? "request" : "answer") held at \(target): \(onServer) on the server, \(unsent) unsent, pulled to \(pulledTo)"
        }
    }

    /// Stories saved offline before the first sync.
    static let total = 300
    /// The most changes per push and records per page; kill targets are spaced wider than both,
    /// so that no kill can run past the next target.
    static let batch = 4
    static let page = 20

    @Test func syncKilledRepeatedlyLosesAndDuplicatesNothing() throws {
        let directory = try TemporaryDirectory()
        let server = ServerProcess(in: directory)
        try server.start()
        defer { server.stop() }
        let proxy = try FaultProxy(upstreamPort: server.port)
        defer { proxy.stop() }
        let device = Device("field", in: directory)
        // Plaintext: the test reads the replica's tables itself.
        try device.haven("init", "--no-encryption", "--server", proxy.url, "--token", server.token(role: "editor", name: "editor"))

        // Given 300 stories saved offline (through the library calls the CLI makes)
        let replica = try Replica.open(at: device.replica)
        var saved: Set<String> = []
        for index in 0..<Self.total {
            saved.insert(
                try replica.add(
                    .story, values: ["title": .string("Story \(index)"), "body": "Saved offline.", "language": "en"]))
        }
        let log = try server.readOnlyDatabase()
        let logRows: @Sendable () -> Int = { (try? log.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM change_log") }) ?? 0 }
        let pulledTo: @Sendable () -> Int = {
            guard let cursor = try? replica.settings().cursor else { return 0 }
            return Int(cursor.position ?? cursor.seq)
        }
        let downloaded: @Sendable () -> Int = { proxy.counters().toClient }

        // When sync is killed at five seeded moments while pushing and two while pulling, each
        // one the moment a request or its answer is about to cross the link
        var generator = SplitMix64(seed: 20_261_123)
        var pushTargets = Self.spreadTargets(over: 0..<Self.total, count: 5, gap: 2 * Self.batch, &generator)
        // Pull targets are bytes of the streamed answer, well inside the first fifth of the
        // gzipped download of 300 stories (so each run's stream is still flowing at its target).
        var pullTargets = Self.spreadTargets(over: 0..<3_000, count: 2, gap: 200, &generator)
        var kills: [Kill] = []
        var completed = false
        for _ in 0..<20 where !completed {
            // The next target lies beyond what is already done, so every armed hold stops this run.
            let onServer = logRows()
            pushTargets.removeAll { $0 <= onServer }
            var target: (value: Int, progress: @Sendable () -> Int)? = pushTargets.first.map { ($0, logRows) }
            var direction: FaultProxy.Direction = generator.next() % 2 == 0 ? .toServer : .toClient
            if target == nil, !pullTargets.isEmpty {
                // Counted from the moment every push is acknowledged: from then on, the answer
                // crossing the link is the streamed download.
                let mark = Mutex<Int?>(nil)
                target = (
                    pullTargets.removeFirst(),
                    {
                        guard (try? replica.status().unsentChanges) == 0 else { return 0 }
                        let now = downloaded()
                        let start = mark.withLock { start in
                            if start == nil { start = now }
                            return start ?? now
                        }
                        return now - start
                    }
                )
                direction = .toClient
            }
            if let target {
                let direction = direction
                proxy.hold { way in way == direction && target.progress() >= target.value }
            } else {
                proxy.disarm()
            }

            let sync = try launch(
                Binaries.url("haven"), ["sync", "--batch-size", "\(Self.batch)", "--page-size", "\(Self.page)"],
                environment: ["HAVEN_REPLICA": device.replica], in: directory)
            // Polled, not timed: the proxy decides the moment; the limit only stops a hang.
            let reached = (try? Polling.until("haven sync reaching its target or ending", limit: 300) {
                !sync.process.isRunning || proxy.isHolding
            }) != nil
            if proxy.isHolding {
                kill(sync.process.processIdentifier, SIGKILL)
                sync.process.waitUntilExit()
                // Nothing crosses the link while it is held: what is on the server is final.
                kills.append(
                    Kill(
                        direction: direction, target: target?.value ?? -1, onServer: logRows(),
                        unsent: try replica.status().unsentChanges, pulledTo: pulledTo()))
                proxy.release(resetting: true)
            } else if !reached {
                kill(sync.process.processIdentifier, SIGKILL)
                sync.process.waitUntilExit()
                Issue.record("sync neither finished nor reached its target \(target?.value ?? -1) in 300 s")
                return
            } else {
                sync.process.waitUntilExit()
                #expect(sync.result().status == 0, "sync failed: \(sync.result().stderr)")
                #expect(target == nil, "the run finished before its target \(target?.value ?? -1): \(kills)")
                completed = true
            }
        }
        #expect(completed, "no sync ran to the end: \(kills)")
        print("killed sync: \(kills.count) kills; \(kills.map(\.description).joined(separator: "; "))")

        // Then every kill landed where it was aimed: five while pushing, two while pulling
        #expect(kills.count == 7, "\(kills)")
        #expect(kills.filter(\.duringPush).count == 5, "\(kills)")
        #expect(kills.filter { $0.onServer == Self.total && $0.unsent == 0 }.count == 2, "\(kills)")
        #expect(kills.contains { $0.direction == .toClient && $0.duringPush }, "no answer to a push was lost: \(kills)")
        // and every saved edit is on the server exactly once, and the replica is intact.
        #expect(logRows() == saved.count)
        #expect(try log.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT change_id) FROM change_log") } == saved.count)
        #expect(Set(try log.read { db in try String.fetchAll(db, sql: "SELECT id FROM records") }) == saved)
        let status = try replica.status()
        #expect(status.unsentChanges == 0)
        #expect(status.stories == saved.count)
        let check = try DatabaseQueue(path: device.replica).read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(check == "ok")
    }

    /// `count` seeded targets inside `range`, one in each of `count` equal parts, each part's
    /// last `gap` left out: consecutive targets are more than `gap` apart.
    private static func spreadTargets(over range: Range<Int>, count: Int, gap: Int, _ generator: inout SplitMix64) -> [Int] {
        let part = range.count / count
        precondition(part > gap, "parts of \(part) are too small for a gap of \(gap)")
        return (0..<count).map { index in
            range.lowerBound + index * part + 1 + Int(generator.next() % UInt64(part - gap))
        }
    }
}
