import Foundation
import HavenCore
import Testing
import TestSupport

/// Two `haven-server serve` instances on one PostgreSQL database: clients pushing and pulling
/// through both lose nothing, duplicate nothing, end in one state and never see a cursor go
/// backwards, and a push on one instance wakes long-polls on the other (issue 7, "Done when").
@Suite(.serialized)
struct TwoInstancesTests {
    // The cluster comes from scripts/test (HAVEN_TEST_POSTGRES_URL); on CI a missing one fails.
    @Test(.enabled(if: PostgresTestDatabase.isEnabled))
    func twoInstancesOnOneDatabaseLoseNothingAndAgree() async throws {
        // Given two servers started at the same moment on one empty PostgreSQL database
        let database = try PostgresTestDatabase()
        let directory = try TemporaryDirectory()
        let servers = [
            ServerProcess(in: directory, database: database.url), ServerProcess(in: directory, database: database.url),
        ]
        try startTogether(servers)
        defer { for server in servers { server.stop() } }
        let urls = servers.map(\.url)
        let pushToken = try servers[0].token(role: "editor", name: "pushers")
        let pullToken = try servers[1].token(role: "editor", name: "pullers")
        var outside: [String: Register] = [:]  // Title registers pushed by the test itself.

        // When a long-poll waits on one instance and a push commits on the other, six times,
        // in both directions
        for round in 0..<6 {
            let (from, to) = round % 2 == 0 ? (0, 1) : (1, 0)
            let listener = LiveClient(server: urls[to], token: pullToken)
            var puller = Puller()
            try await puller.catchUp(through: [listener])
            let cursor = try #require(puller.cursor)
            let wait = Duration.seconds(60)
            let polled = ContinuousClock.now
            let poll = try RawConnection.longPoll(port: servers[to].port, token: pullToken, since: cursor, wait: 60)
            let change = storyChange(title: "Wake \(round)")
            let pushed = try await LiveClient(server: urls[from], token: pushToken).push([change])
            #expect(pushed.status == 200)
            outside[change.record.id] = change.record.fields["title"]

            // Then the waiting instance answers with the change, so after the commit on the
            // other, and before its wait ran out: it was woken, not left to look again at the end
            let page = try poll.readPage()
            let answered = ContinuousClock.now
            #expect(page.changes.map(\.id) == [change.record.id], "round \(round)")
            #expect(answered - polled < wait, "round \(round): the push on instance \(from) did not wake instance \(to)")
        }

        // Given 24 stories that every pusher retitles
        let seeds = (0..<24).map { storyChange(title: "Shared \($0)") }
        let seeded = try await LiveClient(server: urls[0], token: pushToken).push(seeds)
        #expect(seeded.status == 200)
        for change in seeds { outside[change.record.id] = change.record.fields["title"] }
        let shared = seeds.map(\.record.id)

        // When 8 clients push, batch by batch through one instance then the other, while 4
        // clients pull through both, two paging and two long-polling; until 200 changes are
        // acknowledged, each pusher has had 3 batches answered and each puller 10 pages with
        // changes (counted, not timed)
        let pushing = LockedValue(true)
        let batchesDone = LockedValue([Int](repeating: 0, count: 8))
        let changesDone = LockedValue(0)
        let pagesDone = LockedValue([Int](repeating: 0, count: 4))
        let pushers = (0..<8).map { index in
            Task {
                var client = PushingClient(
                    replica: "twin\(index)", token: pushToken, shared: shared, seed: 7_000 + UInt64(index))
                var batches = 0
                while pushing.value {
                    batches += 1
                    let batch = client.nextBatch()
                    await client.push(batch, to: { attempt in urls[(index + batches + attempt) % 2] })
                    batchesDone.withLock { $0[index] = batches }
                    changesDone.withLock { $0 += batch.count }
                }
                return client.outcome
            }
        }
        let pullers = (0..<4).map { index in
            Task {
                let clients = urls.map { LiveClient(server: $0, token: pullToken) }
                var puller = Puller()
                var turn = index
                while pushing.value {
                    turn += 1
                    do {
                        try await puller.pull(through: clients[turn % 2], wait: index < 2 ? nil : 1)
                    } catch {
                        puller.anomalies.append("pull through instance \(turn % 2): \(error)")
                    }
                    pagesDone.withLock { [pages = puller.pagesWithChanges] in $0[index] = pages }
                    if index < 2 { try? await Task.sleep(for: .milliseconds(20)) }  // paging, not hammering
                }
                return puller
            }
        }
        // Polled; the limit only stops a run that makes no progress.
        var stalled: (any Error)?
        do {
            try await Polling.until("200 changes, 3 batches per pusher and 10 pages per puller", limit: 600) { () async in
                changesDone.value >= 200 && batchesDone.value.allSatisfy { $0 >= 3 }
                    && pagesDone.value.allSatisfy { $0 >= 10 }
            }
        } catch {
            stalled = error
        }
        pushing.value = false
        if let stalled { throw stalled }
        var outcome = PushingClient.Outcome()
        for pusher in pushers {
            let one = await pusher.value
            outcome.acknowledged.merge(one.acknowledged) { $1 }
            outcome.anomalies += one.anomalies
            outcome.failedRequests += one.failedRequests
            for (record, title) in one.titles { outside[record] = Register.winner(outside[record], title) }
        }
        var finished: [Puller] = []
        let clients = urls.map { LiveClient(server: $0, token: pullToken) }
        for task in pullers {
            // and each puller then catches up with the head of the log, through both instances
            var puller = await task.value
            try await puller.catchUp(through: clients)
            finished.append(puller)
        }
        print(
            "two instances: \(outcome.acknowledged.count) changes acknowledged, \(outcome.failedRequests) failed requests; pulls \(finished.map(\.pulls)), pages with changes \(finished.map(\.pagesWithChanges))"
        )

        // Then every acknowledged change is in the log exactly once, and nothing else is
        #expect(outcome.anomalies.isEmpty, "\(outcome.anomalies.prefix(5))")
        // (nothing was killed here: a push that failed and had to be sent again is a fault too)
        #expect(outcome.failedRequests == 0, "\(outcome.failedRequests) pushes got no 2xx answer the first time")
        #expect(outcome.acknowledged.count >= 150, "too few pushes went through to mean anything")
        let counts = try servers[0].changeLogCounts()
        let missing = outcome.acknowledged.keys.filter { counts[$0] == nil }
        #expect(missing.isEmpty, "\(missing.count) acknowledged changes are not in the log, e.g. \(missing.prefix(3))")
        let repeated = counts.filter { $0.value != 1 }
        #expect(repeated.isEmpty, "\(repeated.count) changes are in the log more than once")
        #expect(counts.count == outcome.acknowledged.count + seeds.count + 6, "the log holds changes nobody acknowledged")
        // and the merged state holds the winning title of every record
        let records = try servers[1].records()
        let wrongTitles = outside.filter { records[$0.key]?.fields["title"] != $0.value }
        #expect(wrongTitles.isEmpty, "\(wrongTitles.count) of \(outside.count) records lack their winning title")
        #expect(records.count == outside.count)
        // and every puller pulled through both instances while the pushes went on, never saw a
        // cursor go backwards, and ends with exactly the server's merged state
        for (index, puller) in finished.enumerated() {
            #expect(puller.anomalies.isEmpty, "puller \(index): \(puller.anomalies.prefix(5))")
            #expect(puller.pagesWithChanges >= 10, "puller \(index) got only \(puller.pagesWithChanges) pages with changes")
            #expect(puller.backwards.isEmpty, "puller \(index): cursors went backwards: \(puller.backwards.prefix(5))")
            let differing = Set(records.keys).union(puller.state.keys).filter { records[$0] != puller.state[$0] }
            #expect(differing.isEmpty, "puller \(index): \(differing.count) of \(records.count) records differ from the server")
        }
    }

    // The checker itself: a cursor is behind when its store, log position or paging position is.
    @Test(arguments: [
        ("5f1c.5", "5f1c.5", false), ("5f1c.5", "5f1c.4", true), ("5f1c.5", "5f1c.5.9", false),
        ("5f1c.5.9", "5f1c.5.12", false), ("5f1c.5.9", "5f1c.5.7", true), ("5f1c.5.9", "5f1c.9", false),
        ("5f1c.5.9", "5f1c.8", true), ("5f1c.5", "7e2d.6", true),
    ])
    func cursorCheckSpotsEveryStepBack(previous: String, next: String, isBehind: Bool) throws {
        let previous = try #require(SyncCursor(previous))
        let next = try #require(SyncCursor(next))
        #expect(Puller.isBehind(next, previous) == isBehind)
    }

    /// Starts every server at the same moment, as the instances of one deployment may start,
    /// then waits until each listens.
    private func startTogether(_ servers: [ServerProcess]) throws {
        for server in servers { try server.launchServe() }
        for server in servers { try server.waitUntilListening() }
    }

    /// A client that pulls, keeps the merged records and checks every cursor it is given.
    struct Puller: Sendable {
        var cursor: SyncCursor?
        /// Whether the last page said more follow right away.
        var more = true
        var state: [String: RecordState] = [:]
        var pulls = 0
        var pagesWithChanges = 0
        /// Each cursor that went back from the one before it.
        var backwards: [String] = []
        var anomalies: [String] = []

        /// Pulls one page and applies it; long-polls up to `wait` seconds when caught up.
        mutating func pull(through client: LiveClient, wait: Double?) async throws {
            let page = try await client.pull(since: cursor, wait: more ? nil : wait)
            pulls += 1
            if !page.changes.isEmpty { pagesWithChanges += 1 }
            if let previous = cursor, Self.isBehind(page.cursor, previous) {
                backwards.append("\(previous) then \(page.cursor) from \(client.server)")
            }
            for change in page.changes {
                state[change.id] = state[change.id]?.merged(with: change) ?? change
            }
            for id in page.removed { state[id] = nil }
            cursor = page.cursor
            more = page.more
        }

        /// Pulls, turn by turn through `clients`, until a page says nothing more follows.
        mutating func catchUp(through clients: [LiveClient]) async throws {
            var turn = 0
            repeat {
                try await pull(through: clients[turn % clients.count], wait: nil)
                turn += 1
            } while more && turn < 10_000
        }

        /// Whether `cursor` is behind `previous`: another store, an earlier log position, or
        /// an earlier paging position.
        static func isBehind(_ cursor: SyncCursor, _ previous: SyncCursor) -> Bool {
            cursor.epoch != previous.epoch || cursor.seq < previous.seq
                || (cursor.position ?? cursor.seq) < (previous.position ?? previous.seq)
        }
    }
}
