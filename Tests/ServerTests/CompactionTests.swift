import Foundation
import GRDB
import HavenCore
import HavenServer
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Testing
import TestSupport

/// Compaction (DESIGN §4, issue 4): tombstones, superseded log entries and conflicts past the
/// retention window are purged, content included; older cursors get `410 cursor_expired`; a
/// purged delete never comes back.
struct CompactionTests {
    private static let day: UInt64 = 86_400_000
    private static let window: UInt64 = 30 * day

    /// The server's clock `days` after ``TestServer/now``.
    private func at(_ days: Double) -> UInt64 { TestServer.now + UInt64(days * Double(Self.day)) }

    private func caller(_ name: String, _ server: TestServer) -> Caller {
        Caller(tokenID: server.ids[name]!, name: name, role: name.hasPrefix("editor") ? .editor : .admin)
    }

    /// Pushes `changes` as `name` with the server's clock at `days`; every one must be applied.
    private func push(_ changes: [Change], as name: String = "editor", atDay days: Double, _ server: TestServer)
        async throws
    {
        let results = try await server.log.push(changes, by: caller(name, server), now: at(days))
        try #require(results.map(\.status) == Array(repeating: .applied, count: changes.count), "\(results)")
    }

    private func pullAll(_ server: TestServer, since: Int64 = 0, as name: String = "editor") async throws -> PullPage {
        try await server.log.pull(
            since: since == 0 ? nil : SyncCursor(epoch: server.store.epoch, seq: since), limit: 500, maxBytes: 1 << 20,
            for: caller(name, server))
    }

    /// The tables with a row whose text holds `text`, read from the database itself.
    private func tablesMentioning(_ text: String, _ server: TestServer) throws -> [String] {
        let columns = [("change_log", "body"), ("conflicts", "body"), ("records", "state")]
        if let postgres = server.postgres {
            let quoted = "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
            return try columns.filter { table, column in
                try !postgres.rows(Row.self, "SELECT 1 AS seq FROM \(table) WHERE strpos(\(column), \(quoted)) > 0 LIMIT 1")
                    .isEmpty
            }.map(\.0)
        }
        var configuration = Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: server.path, configuration: configuration)
        return try database.read { db in
            try columns.filter { table, column in
                try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE instr(\(column), ?) > 0 LIMIT 1", arguments: [text])
                    ?? false
            }.map(\.0)
        }
    }

    /// Whether the bytes of the SQLite file or its write-ahead log hold `text` anywhere, free
    /// pages included. (PostgreSQL keeps dead rows' bytes until their pages are reused: see
    /// the README.)
    private func fileHolds(_ text: String, _ server: TestServer) -> Bool {
        [server.path, server.path + "-wal"].contains { path in
            guard let bytes = FileManager.default.contents(atPath: path) else { return false }
            return bytes.range(of: Data(text.utf8)) != nil
        }
    }

    private func logSeqs(_ server: TestServer) throws -> [Int64] {
        if let postgres = server.postgres {
            return try postgres.rows(Row.self, "SELECT seq FROM change_log ORDER BY seq").map(\.seq)
        }
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: server.path, configuration: configuration).read { db in
            try Int64.fetchAll(db, sql: "SELECT seq FROM change_log ORDER BY seq")
        }
    }

    /// A row of `seq`s, as PostgreSQL's JSON gives it.
    private struct Row: Decodable { var seq: Int64 }

    @Test(arguments: StorageBackend.all) func tombstonesPastTheWindowArePurgedWithTheirContent(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        var device = Device("a1")
        var other = Device("b1", wallTime: TestServer.now + 1_000)
        let (old, recent, live) = (RecordID.random(), RecordID.random(), RecordID.random())
        // Given a story deleted 44 days ago, after a concurrent edit that left conflicts quoting it
        try await push([device.change(old, .story, Fields.story("Crossing at Hyesan"))], atDay: 0, server)
        try await push(
            [other.change(old, .story, ["title": "Crossing at Hyesan, revised"])], as: "editor2", atDay: 0.5, server)
        try await push([device.change(old, deleted: true)], atDay: 1, server)
        // And a story deleted 5 days ago, and one never deleted
        try await push([device.change(recent, .story, Fields.story("Night train to Dandong"))], atDay: 0, server)
        try await push([device.change(recent, deleted: true)], atDay: 40, server)
        try await push([device.change(live, .story, Fields.story("Market in Yanji"))], atDay: 0, server)
        try #require(try tablesMentioning("Hyesan", server) == ["change_log", "conflicts", "records"])

        // When compaction runs on day 45 with a 30-day window
        let summary = try await server.log.compact(retention: Self.window, now: at(45))

        // Then the old tombstone is gone whole: no row and no byte of the file mentions it
        #expect(summary.purgedRecords == 1)
        #expect(summary.conflicts == 2)
        #expect(try tablesMentioning("Hyesan", server).isEmpty)
        #expect(try tablesMentioning(old, server).isEmpty)
        if backend == .sqlite { #expect(!fileHolds("Hyesan", server)) }
        // And the recent tombstone is kept with its content, for a restore, though a first
        // pull sends nothing of it; the live story is kept as it was
        #expect(try tablesMentioning("Dandong", server).contains("records"))
        let everything = try await pullAll(server)
        #expect(Set(everything.changes.map(\.id)) == [live])
        #expect(everything.changes.first { $0.id == live }?.values["title"] == "Market in Yanji")
    }

    @Test(arguments: StorageBackend.all) func supersededLogEntriesPastTheWindowArePurgedAndCurrentOnesKept(_ backend: StorageBackend) async throws {
        // Given a story created on day 0 whose title was changed on days 1, 2 and 40
        let server = try await TestServer.make(backend: backend)
        var device = Device("a1")
        let story = RecordID.random()
        try await push([device.change(story, .story, Fields.story("First title"))], atDay: 0, server)
        try await push([device.change(story, .story, ["title": "Second title"])], atDay: 1, server)
        try await push([device.change(story, .story, ["title": "Third title"])], atDay: 2, server)
        try await push([device.change(story, .story, ["title": "Fourth title"])], atDay: 40, server)
        let fresh = try await pullAll(server)
        let sinceSecond = try await pullAll(server, since: 2)

        // When compaction runs on day 45 with a 30-day window
        let summary = try await server.log.compact(retention: Self.window, now: at(45))

        // Then the two old title changes are gone; the creation (its other fields are current)
        // and the change inside the window stay
        #expect(summary.logEntries == 2)
        #expect(summary.purgedRecords == 0)
        #expect(try logSeqs(server) == [1, 4])
        #expect(try tablesMentioning("Second title", server).isEmpty)
        // And pulls answer exactly as before
        #expect(try await pullAll(server) == fresh)
        #expect(try await pullAll(server, since: 2) == sinceSecond)
    }

    @Test(arguments: StorageBackend.all) func pullFromACursorBehindTheHorizonIsGone(_ backend: StorageBackend) async throws {
        let server = try await TestServer.make(backend: backend)
        var device = Device("a1")
        let (deleted, kept) = (RecordID.random(), RecordID.random())
        try await push([device.change(deleted, .story, Fields.story("Deleted one"))], atDay: 0, server)
        try await push([device.change(kept, .story, Fields.story("Kept one"))], atDay: 0, server)
        let behind = try await pullAll(server).cursor
        try await push([device.change(deleted, deleted: true)], atDay: 1, server)
        let after = try await pullAll(server).cursor
        try await push([device.change(kept, .story, ["title": "Kept one, edited"])], atDay: 41, server)

        // When the deleted story is purged
        let summary = try await server.log.compact(retention: Self.window, now: at(45))
        #expect(summary.horizon == after.seq)

        try await server.test { client in
            // Then a cursor from before the delete is refused: it never saw the delete
            let response = try await client.get("/v1/changes?since=\(behind)", token: server["editor"])
            #expect(response.status == .gone)
            let error = try response.error()
            #expect(error.code == .cursorExpired)
            #expect(error.message.contains("download everything again"))

            // And a cursor from after it pulls on, with only what changed since
            let page = try await client.pull(token: server["editor"], since: after)
            #expect(page.changes.map(\.id) == [kept])
            #expect(page.changes.first?.values["title"] == "Kept one, edited")

            // And a fresh pull always works, without the purged story
            let fresh = try await client.pull(token: server["editor"])
            #expect(fresh.changes.map(\.id) == [kept])
            #expect(fresh.removed.isEmpty)
        }
    }

    @Test(arguments: StorageBackend.all) func purgingTheNewestEntryKeepsTheHead(_ backend: StorageBackend) async throws {
        // Given a story deleted in the newest change of the log, and a client that saw it
        let server = try await TestServer.make(backend: backend)
        var device = Device("a1")
        let story = RecordID.random()
        try await push([device.change(story, .story, Fields.story("Short-lived"))], atDay: 0, server)
        try await push([device.change(story, deleted: true)], atDay: 1, server)
        let current = try await pullAll(server).cursor
        try #require(current.seq == 2)

        // When compaction empties the log
        _ = try await server.log.compact(retention: Self.window, now: at(45))
        #expect(try logSeqs(server).isEmpty)

        try await server.test { client in
            // Then the client's cursor is neither ahead of the log nor expired
            let page = try await client.pull(token: server["editor"], since: current)
            #expect(page.changes.isEmpty)
            #expect(page.cursor == current)

            // And the next change gets a new position, not a reused one
            var later = Device("c1", wallTime: TestServer.now)
            let next = RecordID.random()
            #expect(
                try await client.push([later.change(next, .story, Fields.story("Next"))], token: server["editor"])
                    .statuses == [.applied])
            let after = try await client.pull(token: server["editor"], since: current)
            #expect(after.changes.map(\.id) == [next])
            #expect(after.cursor.seq == 3)
        }
    }

    @Test(arguments: StorageBackend.all) func changeToAPurgedRecordIsRejectedAndItNeverComesBack(_ backend: StorageBackend) async throws {
        // Given a story that was deleted and purged
        let server = try await TestServer.make(backend: backend)
        var device = Device("a1")
        let story = RecordID.random()
        let creation = device.change(story, .story, Fields.story("Gone for good"))
        try await push([creation], atDay: 0, server)
        try await push([device.change(story, deleted: true)], atDay: 1, server)
        _ = try await server.log.compact(retention: Self.window, now: at(45))

        try await server.test { client in
            // When an offline device pushes an edit, a restore, the original creation again and
            // a new story in one batch
            var offline = Device("d1", wallTime: TestServer.now)
            let other = RecordID.random()
            let response = try await client.push(
                [
                    offline.change(story, .story, ["title": "Edited offline"]),
                    offline.change(story, deleted: false), creation,
                    offline.change(other, .story, Fields.story("Unrelated")),
                ], token: server["editor"])

            // Then each change to the purged story is rejected on its own, saying why
            #expect(response.statuses == [.rejected, .rejected, .rejected, .applied])
            for result in response.results.prefix(3) {
                #expect(result.error?.code == .recordPurged)
                #expect(result.error?.message.contains(story) == true)
                #expect(result.error?.message.contains("purged") == true)
            }
            // And the story does not reappear in any pull
            let fresh = try await client.pull(token: server["editor"])
            #expect(fresh.changes.map(\.id) == [other])
            #expect(try tablesMentioning("Edited offline", server).isEmpty)
        }
        // Nor after another compaction
        _ = try await server.log.compact(retention: Self.window, now: at(90))
        #expect(try await pullAll(server).changes.contains { $0.id == story } == false)
    }

    @Test(arguments: StorageBackend.all) func pushesInsideTheWindowStayIdempotent(_ backend: StorageBackend) async throws {
        // Given changes received 45, 25 and 5 days before compaction, all still current
        let server = try await TestServer.make(backend: backend)
        var device = Device("a1")
        let (first, second) = (RecordID.random(), RecordID.random())
        let old = device.change(first, .story, Fields.story("Old but current"))
        let inside = device.change(second, .story, Fields.story("Inside the window"))
        let recent = device.change(second, .story, ["summary": "Added lately."])
        try await push([old], atDay: 0, server)
        try await push([inside], atDay: 20, server)
        try await push([recent], atDay: 40, server)
        _ = try await server.log.compact(retention: Self.window, now: at(45))

        // When they are pushed again (a sync cut off before its answer arrived)
        let results = try await server.log.push([old, inside, recent], by: caller("editor", server), now: at(45))

        // Then each one is recognised as already applied, and nothing is logged twice
        #expect(results.map(\.status) == [.duplicate, .duplicate, .duplicate])
        #expect(try logSeqs(server) == [1, 2, 3])
    }

    @Test(arguments: StorageBackend.all) func conflictsPastTheWindowArePurged(_ backend: StorageBackend) async throws {
        // Given a story whose title editor lost to editor2 on day 0 and again on day 40
        let server = try await TestServer.make(backend: backend)
        var loser = Device("a1", wallTime: TestServer.now)
        var winner = Device("b1", wallTime: TestServer.now + 60_000)
        let story = RecordID.random()
        try await push([loser.change(story, .story, Fields.story("Loser's first title"))], atDay: 0, server)
        try await push([winner.change(story, .story, ["title": "Winner's title"])], as: "editor2", atDay: 0, server)
        try await push([loser.change(story, .story, ["title": "Loser's second title"])], atDay: 40, server)
        try #require(try await pullAll(server).conflicts.count == 2)

        // When compaction runs on day 45 with a 30-day window
        let summary = try await server.log.compact(retention: Self.window, now: at(45))

        // Then only the conflict inside the window is still delivered
        #expect(summary.conflicts == 1)
        let conflicts = try await pullAll(server).conflicts
        #expect(conflicts.map(\.value) == ["Loser's second title"])
        #expect(try !tablesMentioning("Loser's first title", server).contains("conflicts"))
    }

    @Test(arguments: StorageBackend.all) func serviceCompactsAtStartAndStopsAtOnceOnShutdown(_ backend: StorageBackend) async throws {
        // Given a purgeable tombstone and a service that compacts once an hour
        let server = try await TestServer.make(backend: backend)
        var device = Device("a1")
        let story = RecordID.random()
        try await push([device.change(story, .story, Fields.story("Purged at start"))], atDay: 0, server)
        try await push([device.change(story, deleted: true)], atDay: 1, server)
        let logger = Logger(label: "compaction-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let now = at(45)
        let service = CompactionService(
            log: server.log, configuration: .init(retention: Self.window, interval: .seconds(3_600)), logger: logger,
            clock: { now })
        let group = ServiceGroup(services: [service], logger: logger)

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // When it starts, then the tombstone is purged without waiting an hour
            try await waitUntil { try tablesMentioning("Purged at start", server).isEmpty }
            // And graceful shutdown ends the hour's wait at once
            let started = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            #expect(ContinuousClock.now - started < .seconds(30))  // not the hour, even on a loaded machine
        }
    }

    @Test(arguments: StorageBackend.all) func serviceCompactsAgainAtEveryInterval(_ backend: StorageBackend) async throws {
        // Given a service that compacts every 20 ms, with nothing to purge at first
        let server = try await TestServer.make(backend: backend)
        let logger = Logger(label: "compaction-tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let now = at(45)
        let service = CompactionService(
            log: server.log, configuration: .init(retention: Self.window, interval: .milliseconds(20)),
            logger: logger, clock: { now })
        let group = ServiceGroup(services: [service], logger: logger)

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // When a story deleted long ago arrives while it runs
            var device = Device("a1")
            let story = RecordID.random()
            try await push([device.change(story, .story, Fields.story("Purged later"))], atDay: 0, server)
            try await push([device.change(story, deleted: true)], atDay: 1, server)

            // Then a later run purges it
            try await waitUntil { try tablesMentioning("Purged later", server).isEmpty }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Polls `condition` every 20 ms for up to 10 seconds; fails the test if it never holds.
    private func waitUntil(_ condition: () throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("condition never held within 10 seconds", sourceLocation: sourceLocation)
    }
}
