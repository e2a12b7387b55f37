import Foundation
import HavenCore
import HavenTrust
import HavenServer
import Synchronization
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// Push in batches, then pull pages until `more` is false, against the real server in-process;
/// a faulty link only where the server cannot fail the way a test needs.
@Suite(.temporaryDirectory)
struct SyncEngineTests {
    /// Three stories of another device, whose ids sort in the order they are written.
    private static let threeStories = [("P1", RecordIDs.first), ("P2", RecordIDs.second), ("P3", RecordIDs.third)]
        .map { title, id in Fixtures.storyDelta(id, Fixtures.story(title), at: Fixtures.stamp(Fixtures.epoch - 60_000)) }

    @Test func syncPushesInBatchesThenPullsEveryPage() async throws {
        // Given five unsent stories, and a server holding three stories of another device
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        for number in 1...5 { try replica.add(.story, values: Fixtures.story("Local \(number)")) }
        let outbox = try replica.pendingChanges(limit: 10)
        try await server.run { client in
            try await server.seed(Self.threeStories, through: client)
            let router = RouterTransport(client)
            let stored = Mutex<[String?]>([])  // The replica's cursor as each pull goes out.
            let link = FaultyLink(over: router) { attempt in
                if attempt.isPull { try stored.withLock { $0.append(try replica.settings().cursor?.description) } }
                return nil
            }

            // When it syncs two changes per push and three records per page
            let summary = try await makeEngine(replica, link, .init(batchSize: 2, pageLimit: 3)).sync()

            // Then it sent 2 + 2 + 1 changes, oldest first, the server applied them, and the outbox is empty
            #expect(router.pushes.map(\.changes.count) == [2, 2, 1])
            #expect(router.pushes.flatMap(\.changes) == outbox)
            #expect(router.applied == outbox.map(\.id))
            #expect(try replica.pendingChanges(limit: 10).isEmpty)
            // Then it pulled the eight stories in three pages, each from the cursor the page before had stored
            let cursors = router.cursors
            #expect(router.pulls.map(\.limit) == [3, 3, 3])
            #expect(router.pulls.map(\.since) == [nil, cursors[0], cursors[1]])
            #expect(stored.withLock { $0 } == [nil, cursors[0], cursors[1]])
            #expect(try replica.settings().cursor?.description == cursors[2])
            #expect(try replica.records(.story).count == 8)
            #expect(try replica.record(RecordIDs.third).values["title"] == "P3")
            #expect(try replica.settings().lastSync == Fixtures.epoch)
            #expect(summary.pushed == 5)
            #expect(summary.applied == 5)
            #expect(summary.pages == 3)
            #expect(summary.pulledRecords == 8)
            #expect(summary.redownloaded == false)
        }
    }

    @Test func answersWrittenWhileTheNextBatchGoesOutLeaveTheReplicaAsOneAtATimeWould() async throws {
        // Given four published stories, the first retitled twice since
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        var ids: [String] = []
        for number in 1...4 {
            var values = Fixtures.story("Local \(number)")
            values["status"] = "published"
            ids.append(try replica.add(.story, values: values))
        }
        try replica.edit(ids[0], values: ["title": "Retitled once"])
        try replica.edit(ids[0], values: ["title": "Retitled twice"])
        let outbox = try replica.pendingChanges(limit: 10)
        let retitled = ids[0]
        try await server.run { client in
            let router = RouterTransport(client)

            // When it pushes one change a request, each answer written while the next one is out
            var summary = SyncEngine.Summary()
            try await makeEngine(replica, router, .init(batchSize: 1)).push(into: &summary)

            // Then every change went once, oldest first, and none is left
            #expect(router.pushes.flatMap(\.changes) == outbox)
            #expect(router.applied == outbox.map(\.id))
            #expect(summary.pushed == 6 && summary.applied == 6)
            #expect(try replica.pendingChanges(limit: 10).isEmpty)
            #expect(try replica.record(retitled).values["title"] == "Retitled twice")

            // And the published set's running digest is the one computed from the records again
            let running = try replica.database.read { db in try Replica.publishedDigest(db) }
            let recomputed = try replica.recomputedPublishedDigest()
            #expect(running == recomputed.digest)
            #expect(recomputed.altered.isEmpty)
            #expect(running != PublishedSetDigest())
        }
    }

    @Test func aBatchReadAheadIsSentOnlyIfItsChangesAreStillPendingAndItsSizeIsAskedFor() async throws {
        // Given four unsent stories, and the two after the first two read ahead as the next batch
        let replica = try makeEmptyReplica()
        var ids: [String] = []
        for number in 1...4 { ids.append(try replica.add(.story, values: Fixtures.story("Ahead \(number)"))) }
        let outbox = try replica.pendingChanges(limit: 10)
        let api = ServerAPI(server: Fixtures.server, token: "t", transport: NoLink())
        func readAhead() async -> SyncEngine.NextBatch {
            let next = SyncEngine.NextBatch(
                limit: 2, excluding: Set(outbox.prefix(2).map(\.id)), maxBytes: .max, replica: replica, api: api)
            _ = await next.task.value
            return next
        }

        // Then it is taken as a batch of two, holding the third and fourth changes
        let taken = try await readAhead().take(limit: 2, replica: replica)
        #expect(taken?.0.ids == outbox.suffix(2).map(\.id))
        // But not when the machine asks for another size
        #expect(try await readAhead().take(limit: 3, replica: replica) == nil)

        // And not once one of its changes was discarded after it was read
        let ahead = await readAhead()
        try replica.discard(ids[3])
        #expect(try await ahead.take(limit: 2, replica: replica) == nil)

        // And not once a file waits to go up: a change naming it goes after its upload
        #expect(try await readAhead().take(limit: 2, replica: replica)?.0.ids == [outbox[2].id])
        let beforeFile = await readAhead()
        try replica.addMedia(to: ids[0], bytes: Data("a voice note".utf8), name: "note.m4a", type: "audio/mp4")
        #expect(try await beforeFile.take(limit: 2, replica: replica) == nil)
    }

    @Test func rowsStoredBeforeTheirSeedsWereKeptAreHashedFromTheirStatesWhenPushed() async throws {
        // Given two published stories whose rows were stored before rows kept their seeds (v7)
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        for number in 1...2 {
            var values = Fixtures.story("Before seeds \(number)")
            values["status"] = "published"
            try replica.add(.story, values: values)
        }
        try replica.database.write { db in try db.execute(sql: "UPDATE records SET seed = NULL") }
        try await server.run { client in
            // When they are pushed
            var summary = SyncEngine.Summary()
            try await makeEngine(replica, RouterTransport(client)).push(into: &summary)
            #expect(summary.applied == 2)

            // Then the running digest holds them, as computed from the records again
            let running = try replica.database.read { db in try Replica.publishedDigest(db) }
            let recomputed = try replica.recomputedPublishedDigest()
            #expect(running == recomputed.digest)
            #expect(recomputed.altered.isEmpty)
            #expect(running != PublishedSetDigest())
        }
    }

    @Test func aWatchingDeviceBuildsTheIndexItsFirstDownloadDeferred() async throws {
        // Given a fresh replica, and a server holding three stories
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try await server.run { client in
            try await server.seed(Self.threeStories, through: client)

            // When it watches until its second pull (the first long poll) is cancelled
            let link = FaultyLink(over: RouterTransport(client)) { attempt in
                if attempt.isPull && attempt.ofItsKind == 2 { throw CancellationError() }
                return nil
            }
            var summary = SyncEngine.Summary()
            try await makeEngine(replica, link).watch(into: &summary)
            #expect(summary.pulledRecords == 3)
        }
        // Then the index the download deferred was built after the first round
        #expect(try !replica.isSearchIndexDeferred())
        #expect(try replica.search(SearchQuery("night")).count == 3)
    }

    @Test func aWatchingDeviceTakesTheAccountTheServerNowStatesAndAsksOnlyThen() async throws {
        // Given a synced replica that holds an account the server no longer states (a limit changed)
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try await server.run { client in
            let router = RouterTransport(client)
            let engine = try makeEngine(replica, router)
            _ = try await engine.sync()
            await engine.refreshAccount()
            let held = try replica.settings()
            let fingerprint = try #require(held.accountFingerprint)
            try replica.saveAccount(
                Account(
                    name: try #require(held.accountName), role: try #require(held.role),
                    limits: ServerLimits(recordBytes: 1_000), review: held.review, fingerprint: "stale"))

            // When it watches until its second pull (the first long poll) is cancelled, twice
            let accountRequests = Mutex(0)
            func watch() async throws {
                let link = FaultyLink(over: router) { attempt in
                    if attempt.request.url.path == "/v1/me" { accountRequests.withLock { $0 += 1 } }
                    if attempt.isPull && attempt.ofItsKind == 2 { throw CancellationError() }
                    return nil
                }
                var summary = SyncEngine.Summary()
                try await makeEngine(replica, link).watch(into: &summary)
            }
            try await watch()

            // Then it asked for the account after its first round, and holds the server's again
            #expect(accountRequests.withLock { $0 } == 1)
            let refreshed = try replica.settings()
            #expect(refreshed.accountFingerprint == fingerprint)
            #expect(refreshed.recordBytes != 1_000)

            // And watching again, with the fingerprint the answers carry, it does not ask
            try await watch()
            #expect(accountRequests.withLock { $0 } == 1)

            // When the replica is given another token meanwhile (`haven login`), with its account
            let reader = Account(name: "reader", role: .field, limits: ServerLimits(recordBytes: 2_000), fingerprint: "other")
            _ = try replica.login(
                server: Fixtures.server, token: server.token(.field), link: .init(), account: reader, redownload: false)

            // Then the engine of the token before neither asks for its account nor puts it back
            let asked = { router.exchanges.filter { $0.request.url.path == "/v1/me" }.count }
            let before = asked()
            #expect(await engine.refreshAccount())
            #expect(asked() == before)
            #expect(try replica.settings().accountFingerprint == "other")
        }
    }

    @Test func pushSendsOnlyPendingChangesAndStopsWhenNoneAreLeft() async throws {
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try replica.add(.story, values: Fixtures.story())
        try await server.run { client in
            let router = RouterTransport(client)
            var summary = SyncEngine.Summary()

            try await makeEngine(replica, router).push(into: &summary)
            try await makeEngine(replica, router).push(into: &summary)

            #expect(router.pushes.map(\.changes.count) == [1])
            #expect(router.pulls.isEmpty)
            #expect(summary.pushed == 1)
        }
    }

    @Test func expiredCursorRedownloadsEverythingAndKeepsUnsentChanges() async throws {
        // Given a replica at a cursor of another database (its server was replaced), with a story to send
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try replica.apply(Fixtures.page([], cursor: Fixtures.cursor(3)))
        let sent = try replica.add(.story, values: Fixtures.story("Sent"))
        try await server.run { client in
            try await server.seed(
                [Fixtures.storyDelta(RecordIDs.first, Fixtures.story("From scratch"), at: Fixtures.stamp(Fixtures.epoch - 1_000))],
                through: client)
            let router = RouterTransport(client)
            let engine = try makeEngine(replica, router)

            // When it pushes, a new edit is made, and then it pulls
            var summary = SyncEngine.Summary()
            try await engine.push(into: &summary)
            let unsent = try replica.add(.story, values: Fixtures.story("Written during sync"))
            try await engine.pull(into: &summary)

            // Then the server answered 410; it dropped the cursor, pulled from the start, and
            // still holds the new edit unsent
            #expect(router.pulls.map(\.status) == [410, 200])
            #expect(router.pulls.map(\.since) == [Fixtures.cursor(3).description, nil])
            #expect(summary.redownloaded)
            #expect(summary.pages == 1)
            #expect(try replica.settings().cursor?.description == router.cursors.last)
            let pending = try replica.pendingChanges(limit: 10)
            #expect(pending.map(\.record.id) == [unsent])
            #expect(pending.first?.base == Fixtures.cursor(3))
            #expect(try replica.record(unsent).values["title"] == "Written during sync")
            #expect(try replica.record(sent).values["title"] == "Sent")
            #expect(try replica.record(RecordIDs.first).values["title"] == "From scratch")
            #expect(router.pushes.count == 1)

            // When it pushes again, the kept change goes out
            try await engine.push(into: &summary)
            #expect(router.applied.last == pending.first?.id)
            #expect(try replica.pendingChanges(limit: 10).isEmpty)
        }
    }

    @Test func pullKeepsARemovedRecordWithUnsentEditsAndSaysSo() async throws {
        // Given a published story a field token pulled, then edited here and not yet sent
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.field))
        let published = Fixtures.story("One").merging(["status": "published"]) { $1 }
        try await server.run { client in
            try await server.seed(
                [Fixtures.storyDelta(RecordIDs.first, published, at: Fixtures.stamp(Fixtures.epoch - 2))], through: client)
            let router = RouterTransport(client)
            var summary = SyncEngine.Summary()
            try await makeEngine(replica, router).pull(into: &summary)
            try replica.edit(RecordIDs.first, values: ["title": "Mine"])

            // When an editor takes the story back to draft, and the field token pulls (as 'haven pull' does)
            try await server.seed(
                [Fixtures.storyDelta(RecordIDs.first, ["status": "draft"], at: Fixtures.stamp(Fixtures.epoch - 1))],
                through: client)
            summary = SyncEngine.Summary()
            try await makeEngine(replica, router).pull(into: &summary)

            // Then the server said the story is no longer visible, and the story and its edit
            // are still here to edit, and the person is told
            #expect(router.pulls.last?.page?.removed == [RecordIDs.first])
            #expect(try replica.record(RecordIDs.first).values["title"] == "Mine")
            #expect(try replica.edit(RecordIDs.first, values: ["title": "Mine, again"]) == ["title"])
            #expect(summary.removedRecords == 0)
            #expect(summary.keptRecords == 1)
            #expect(
                SyncOptions.summaryLines(summary) == [
                    "pulled 0 records in 1 page",
                    "1 record(s) are no longer visible to this token but were kept: they have changes the server "
                        + "has not accepted yet (see 'haven status')",
                ])
        }
    }

    @Test func expiredAnswerWithoutACursorIsAnError() async throws {
        // Given a link that answers 410 to a pull from the start, which no server should
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try await server.run { client in
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { _ in .status(410, .cursorExpired, message: "cursor expired") }

            let error = await #expect(throws: ServerError.self) { try await makeEngine(replica, link).sync() }

            #expect(error?.status == 410)
            #expect(link.requests == 1)
        }
        #expect(try replica.settings().cursor == nil)
    }

    @Test func droppedLinkMidPullIsRetriedFromTheLastAppliedPage() async throws {
        // Given three stories on the server, one a page, and a link that drops the third pull once
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        let clock = ManualClock(0)
        try await server.run { client in
            try await server.seed(Self.threeStories, through: client)
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { $0.isPull && $0.ofItsKind == 3 ? .dropRequest : nil }

            // When it syncs
            let summary = try await makeEngine(replica, link, .init(pageLimit: 1), clock: clock).sync()

            // Then it waited once and asked again from the second page's cursor, not from the start
            let cursors = router.cursors
            #expect(router.pulls.map(\.since) == [nil, cursors[0], cursors[1]])
            #expect(link.drops == 1)
            #expect(clock.sleeps == [0.1])
            #expect(summary.retries == 1)
            #expect(summary.pages == 3)
            #expect(try replica.settings().cursor?.description == cursors[2])
            #expect(try replica.records().count == 3)
        }
    }

    @Test func syncThatGivesUpKeepsThePagesItGotAndTheNextOneResumes() async throws {
        // Given three stories on the server, one a page, a link that drops the third pull once, and no retries
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try await server.run { client in
            try await server.seed(Self.threeStories, through: client)
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { $0.isPull && $0.ofItsKind == 3 ? .dropRequest : nil }
            let engine = try makeEngine(replica, link, .init(pageLimit: 1, retry: RetryPolicy(maxAttempts: 1)))

            // When a sync is cut off
            let error = await #expect(throws: RetryBudgetExhausted.self) { try await engine.sync() }

            // Then it says what happened and what to do, the two pages it got are applied and their
            // cursor kept, and the sync is not marked done
            #expect(error?.description.hasPrefix("gave up pulling changes after 1 attempt over 0 s") == true)
            #expect(error?.description.contains("everything received so far is saved") == true)
            #expect(error?.description.contains("run 'haven sync' again") == true)
            #expect(try replica.settings().cursor?.description == router.cursors.last)
            #expect(try replica.records().map(\.id) == [RecordIDs.first, RecordIDs.second])
            #expect(try replica.settings().lastSync == nil)

            // When it syncs again
            let summary = try await engine.sync()

            // Then it asks from the second page's cursor, not from the start, and finishes
            let cursors = router.cursors
            #expect(router.pulls.map(\.since) == [nil, cursors[0], cursors[1]])
            #expect(summary.pages == 1)
            #expect(try replica.settings().cursor?.description == cursors[2])
            #expect(try replica.records().count == 3)
        }
    }

    @Test func droppedLinkMidPushKeepsTheUnsentBatches() async throws {
        // Given three changes and a link that drops the second request only, and no retries
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        for number in 1...3 { try replica.add(.story, values: Fixtures.story("Local \(number)")) }
        try await server.run { client in
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { $0.number == 2 ? .dropRequest : nil }
            let engine = try makeEngine(replica, link, .init(batchSize: 2, retry: RetryPolicy(maxAttempts: 1)))

            // When the link drops on the second batch, the first batch has left the outbox
            let error = await #expect(throws: RetryBudgetExhausted.self) { try await engine.sync() }
            #expect(error?.step.english == "pushing changes")
            #expect(try replica.pendingChanges(limit: 10).count == 1)

            // When the link comes back and it syncs again
            let summary = try await engine.sync()

            // Then every change reached the server once, and none is left
            #expect(router.pushes.map(\.changes.count) == [2, 1])
            #expect(Set(router.applied).count == 3)
            #expect(summary.pushed == 1)
            #expect(try replica.pendingChanges(limit: 10).isEmpty)
        }
    }

    @Test func unknownTokenSurfacesAs401WithAHintWithoutRetrying() async throws {
        // Given a replica whose token the server does not know, with a story to send
        // When it syncs
        let (error, replica) = try await syncStoppingAtOnce { _ in "hvn_revoked-token" }

        // Then the error says what happened and what to do; the change is kept
        #expect(error?.status == 401)
        #expect(error?.detail.code == .unauthorized)
        #expect(error?.description.contains("server answered 401") == true)
        #expect(error?.description.contains("ask an admin for a new one") == true)
        #expect(error.map { !String(describing: $0).contains("revoked-token") } == true)
        #expect(try replica.pendingChanges(limit: 10).count == 1)
        #expect(try replica.settings().cursor == nil)
    }

    @Test func forbiddenPushStopsWithoutRetryingAndSaysWhatToDo() async throws {
        // Given a story written on a replica with a reader token
        // When it syncs
        let (error, replica) = try await syncStoppingAtOnce { $0.token(.reader) }

        // Then the server refused the push with the reason and the way out, and the change is kept
        #expect(
            error?.description
                == "server answered 403: a reader token cannot push changes (forbidden) — this token's role does not allow it: ask an admin for a token whose role may do this"
        )
        #expect(try replica.pendingChanges(limit: 10).count == 1)
    }

    /// Syncs a replica holding one unsent story with the token `token` picks, expects the sync to
    /// stop at its first request without waiting, and returns the error and the replica.
    private func syncStoppingAtOnce(
        token: (InProcessServer) -> String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (ServerError?, Replica) {
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: token(server))
        try replica.add(.story, values: Fixtures.story())
        let clock = ManualClock(0)
        let (error, requests) = try await server.run { client in
            let router = RouterTransport(client)
            let error = await #expect(throws: ServerError.self, sourceLocation: sourceLocation) {
                try await makeEngine(replica, router, clock: clock).sync()
            }
            return (error, router.exchanges.count)
        }
        #expect(requests == 1, sourceLocation: sourceLocation)
        #expect(clock.sleeps.isEmpty, sourceLocation: sourceLocation)
        return (error, replica)
    }

    @Test func aServerWithALowerPageCapServesItAndTheSyncCompletes() async throws {
        // Given a server capped at 50 records a page, holding 120 stories
        let server = try await InProcessServer.make(configuration: ServerConfiguration(pageLimit: 50))
        let replica = try makeEmptyReplica(token: server.token(.reader))
        let stories = (1...120).map { number in
            Fixtures.storyDelta(
                RecordID.random(), Fixtures.story("Story \(number)").merging(["status": "published"]) { $1 },
                at: Fixtures.stamp(Fixtures.epoch - 1))
        }
        try await server.run { client in
            try await server.seed(stories, through: client)
            let router = RouterTransport(client)

            // When a client syncs asking for 500 records a page, whatever their size
            let summary = try await makeEngine(replica, router, .init(pageLimit: 500, pageBytes: nil)).sync()

            // Then it received all 120 stories in pages of 50, 50 and 20
            #expect(router.pulls.map(\.limit) == [500, 500, 500])
            #expect(router.pulls.map { $0.page?.changes.count } == [50, 50, 20])
            #expect(summary.pulledRecords == 120)
            #expect(summary.pages == 3)
            #expect(try replica.records(.story).count == 120)
        }
    }
}

/// A transport for what sends nothing: any request fails.
private struct NoLink: HTTPTransport {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse { throw URLError(.notConnectedToInternet) }
}
