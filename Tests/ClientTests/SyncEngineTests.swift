import Foundation
import HavenCore
import Testing

@testable import HavenClient

/// Push in batches, then pull pages until `more` is false, against an in-memory server.
@Suite(.temporaryDirectory)
struct SyncEngineTests {
    /// Three pages of one story each, chained by cursors 1, 2 and 3.
    private static func threePages() -> [SyncCursor?: PullResponse] {
        let stamp = Fixtures.stamp(Fixtures.epoch - 60_000)
        return [
            nil: Fixtures.page(
                [Fixtures.storyDelta(RecordIDs.first, Fixtures.story("P1"), at: stamp)], cursor: Fixtures.cursor(1),
                more: true),
            Fixtures.cursor(1): Fixtures.page(
                [Fixtures.storyDelta(RecordIDs.second, Fixtures.story("P2"), at: stamp)], cursor: Fixtures.cursor(2),
                more: true),
            Fixtures.cursor(2): Fixtures.page(
                [Fixtures.storyDelta(RecordIDs.third, Fixtures.story("P3"), at: stamp)], cursor: Fixtures.cursor(3)),
        ]
    }

    private func makeEngine(
        _ replica: Replica, _ server: any HTTPTransport, batchSize: Int = 100, pageLimit: Int = 500,
        retry: RetryPolicy = RetryPolicy(), clock: TestClock = TestClock()
    ) throws -> SyncEngine {
        let settings = try replica.settings()
        return SyncEngine(
            replica: replica, api: ServerAPI(server: settings.server, token: settings.token, transport: server),
            configuration: .init(batchSize: batchSize, pageLimit: pageLimit, retry: retry), clock: clock.syncClock,
            random: { 1 })
    }

    @Test func syncPushesInBatchesThenPullsEveryPage() async throws {
        // Given five unsent stories and a server with three pages to send
        let replica = try makeEmptyReplica()
        for number in 1...5 { try replica.add(.story, values: Fixtures.story("Local \(number)")) }
        let outbox = try replica.pendingChanges(limit: 10)
        let server = FakeServer(pages: Self.threePages(), observe: { try replica.settings().cursor?.description })

        // When it syncs two changes per push and fifty records per page
        let summary = try await makeEngine(replica, server, batchSize: 2, pageLimit: 50).sync()

        // Then it sent 2 + 2 + 1 changes, oldest first, and the outbox is empty
        #expect(await server.pushedBatches.map(\.count) == [2, 2, 1])
        #expect(await server.pushedBatches.flatMap { $0 } == outbox)
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
        // Then it pulled three pages, each from the cursor the page before had stored
        #expect(await server.pulledSince == [nil, Fixtures.cursor(1).description, Fixtures.cursor(2).description])
        #expect(await server.observations == [nil, Fixtures.cursor(1).description, Fixtures.cursor(2).description])
        // (the first page is held to the 32 KiB budget at 1 KB a record; later ones know the real size)
        #expect(await server.pulledLimits == [32, 50, 50])
        #expect(try replica.settings().cursor == Fixtures.cursor(3))
        #expect(try replica.records(.story).count == 8)
        #expect(try replica.record(RecordIDs.third).values["title"] == "P3")
        #expect(try replica.settings().lastSync == Fixtures.epoch)
        #expect(summary.pushed == 5)
        #expect(summary.applied == 5)
        #expect(summary.pages == 3)
        #expect(summary.pulledRecords == 3)
        #expect(summary.redownloaded == false)
    }

    @Test func pushSendsOnlyPendingChangesAndStopsWhenNoneAreLeft() async throws {
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story())
        let server = FakeServer()
        var summary = SyncEngine.Summary()

        try await makeEngine(replica, server).push(into: &summary)
        try await makeEngine(replica, server).push(into: &summary)

        #expect(await server.pushedBatches.map(\.count) == [1])
        #expect(await server.pulledSince.isEmpty)
        #expect(summary.pushed == 1)
    }

    @Test func expiredCursorRedownloadsEverythingAndKeepsUnsentChanges() async throws {
        // Given a replica at cursor 3, which the server has since compacted away
        let replica = try makeEmptyReplica()
        try replica.apply(Fixtures.page([], cursor: Fixtures.cursor(3)))
        try replica.add(.story, values: Fixtures.story("Sent"))
        let fresh = Fixtures.page(
            [
                Fixtures.storyDelta(
                    RecordIDs.first, Fixtures.story("From scratch"), at: Fixtures.stamp(Fixtures.epoch - 1_000))
            ],
            cursor: Fixtures.cursor(40))
        let server = FakeServer(pages: [nil: fresh], expired: [Fixtures.cursor(3)])
        let engine = try makeEngine(replica, server)

        // When it pushes, a new edit is made, and then it pulls
        var summary = SyncEngine.Summary()
        try await engine.push(into: &summary)
        let unsent = try replica.add(.story, values: Fixtures.story("Written during sync"))
        try await engine.pull(into: &summary)

        // Then it dropped the cursor, pulled from the start, and still holds the new edit unsent
        #expect(await server.pulledSince == [Fixtures.cursor(3).description, nil])
        #expect(summary.redownloaded)
        #expect(summary.pages == 1)
        #expect(try replica.settings().cursor == Fixtures.cursor(40))
        let pending = try replica.pendingChanges(limit: 10)
        #expect(pending.map(\.record.id) == [unsent])
        #expect(pending.first?.base == Fixtures.cursor(3))
        #expect(try replica.record(unsent).values["title"] == "Written during sync")
        #expect(try replica.record(RecordIDs.first).values["title"] == "From scratch")
        #expect(await server.pushedBatches.count == 1)

        // When it pushes again, the kept change goes out
        try await engine.push(into: &summary)
        #expect(await server.applied.last?.record.id == unsent)
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
    }

    @Test func pullKeepsARemovedRecordWithUnsentEditsAndSaysSo() async throws {
        // Given a pulled story, edited here and not yet sent
        let replica = try makeEmptyReplica()
        try replica.apply(
            Fixtures.page(
                [Fixtures.storyDelta(RecordIDs.first, Fixtures.story("One"), at: Fixtures.stamp(Fixtures.epoch - 1))],
                cursor: Fixtures.cursor(1)))
        try replica.edit(RecordIDs.first, values: ["title": "Mine"])
        let server = FakeServer(pages: [
            Fixtures.cursor(1): Fixtures.page([], removed: [RecordIDs.first], cursor: Fixtures.cursor(2))
        ])

        // When it pulls (as 'haven pull' does) and the server says the story is no longer visible
        var summary = SyncEngine.Summary()
        try await makeEngine(replica, server).pull(into: &summary)

        // Then the story and its edit are still here to edit, and the person is told
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

    @Test func expiredAnswerWithoutACursorIsAnError() async throws {
        let replica = try makeEmptyReplica()
        let server = FakeServer(
            pages: Self.threePages(), faults: [nil: .status(410, code: "cursor_expired", message: "cursor expired")])

        let error = await #expect(throws: ServerError.self) { try await makeEngine(replica, server).sync() }

        #expect(error?.status == 410)
        #expect(await server.pulledSince == [nil])
        #expect(try replica.settings().cursor == nil)
    }

    @Test func droppedLinkMidPullIsRetriedFromTheLastAppliedPage() async throws {
        // Given a server whose link drops once when the third page is asked for
        let replica = try makeEmptyReplica()
        let server = FakeServer(pages: Self.threePages(), faults: [Fixtures.cursor(2): .dropLink])
        let clock = TestClock()

        // When it syncs
        let summary = try await makeEngine(replica, server, clock: clock).sync()

        // Then it waited once and asked again from cursor 2, not from the start
        #expect(
            await server.pulledSince == [
                nil, Fixtures.cursor(1).description, Fixtures.cursor(2).description, Fixtures.cursor(2).description,
            ])
        #expect(clock.sleeps == [0.5])
        #expect(summary.retries == 1)
        #expect(summary.pages == 3)
        #expect(try replica.settings().cursor == Fixtures.cursor(3))
        #expect(try replica.records().count == 3)
    }

    @Test func syncThatGivesUpKeepsThePagesItGotAndTheNextOneResumes() async throws {
        // Given a server whose link drops when the third page is asked for, and no retries
        let replica = try makeEmptyReplica()
        let server = FakeServer(pages: Self.threePages(), faults: [Fixtures.cursor(2): .dropLink])
        let engine = try makeEngine(replica, server, retry: RetryPolicy(maxAttempts: 1))

        // When a sync is cut off
        let error = await #expect(throws: RetryBudgetExhausted.self) { try await engine.sync() }

        // Then it says what happened and what to do, the two pages it got are applied and their
        // cursor kept, and the sync is not marked done
        #expect(error?.description.hasPrefix("gave up pulling changes after 1 attempt over 0 s") == true)
        #expect(error?.description.contains("everything received so far is saved") == true)
        #expect(error?.description.contains("run 'haven sync' again") == true)
        #expect(try replica.settings().cursor == Fixtures.cursor(2))
        #expect(try replica.records().map(\.id) == [RecordIDs.first, RecordIDs.second])
        #expect(try replica.settings().lastSync == nil)

        // When it syncs again
        let summary = try await engine.sync()

        // Then it asks from cursor 2, not from the start, and finishes
        #expect(
            await server.pulledSince == [
                nil, Fixtures.cursor(1).description, Fixtures.cursor(2).description, Fixtures.cursor(2).description,
            ])
        #expect(summary.pages == 1)
        #expect(try replica.settings().cursor == Fixtures.cursor(3))
        #expect(try replica.records().count == 3)
    }

    @Test func droppedLinkMidPushKeepsTheUnsentBatches() async throws {
        // Given three changes and a link that drops on the second request only, and no retries
        let replica = try makeEmptyReplica()
        for number in 1...3 { try replica.add(.story, values: Fixtures.story("Local \(number)")) }
        let flaky = FlakyTransport(
            failing: 2, then: FakeServer(pages: [nil: Fixtures.page([], cursor: Fixtures.cursor(1))]))
        let engine = try makeEngine(replica, flaky, batchSize: 2, retry: RetryPolicy(maxAttempts: 1))

        // When the link drops on the second batch, the first batch has left the outbox
        let error = await #expect(throws: RetryBudgetExhausted.self) { try await engine.sync() }
        #expect(error?.step == "pushing changes")
        #expect(try replica.pendingChanges(limit: 10).count == 1)

        // When the link comes back and it syncs again
        let summary = try await engine.sync()

        // Then every change reached the server once, and none is left
        #expect(await flaky.server.pushedBatches.map(\.count) == [2, 1])
        #expect(summary.pushed == 1)
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
    }

    @Test func unknownTokenSurfacesAs401WithAHintWithoutRetrying() async throws {
        // Given a replica whose token the server does not know
        let replica = try makeEmptyReplica(token: "revoked-token")
        try replica.add(.story, values: Fixtures.story())
        let server = FakeServer(pages: Self.threePages())
        let clock = TestClock()

        // When it syncs
        let engine = try makeEngine(replica, server, clock: clock)
        let error = await #expect(throws: ServerError.self) { try await engine.sync() }

        // Then it asked once, and the error says what happened and what to do; the change is kept
        #expect(await server.requestCount == 1)
        #expect(clock.sleeps.isEmpty)
        #expect(error?.status == 401)
        #expect(error?.detail.code == .unauthorized)
        #expect(error?.description.contains("server answered 401") == true)
        #expect(error?.description.contains("ask an admin for a new one") == true)
        #expect(error.map { !String(describing: $0).contains("revoked-token") } == true)
        #expect(try replica.pendingChanges(limit: 10).count == 1)
        #expect(try replica.settings().cursor == nil)
    }

    @Test func forbiddenPushStopsWithoutRetryingAndSaysWhatToDo() async throws {
        // Given a server that refuses this token's pushes
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story())
        let server = FakeServer(
            pushFaults: [.status(403, code: "forbidden", message: "a reader token cannot push changes")])
        let clock = TestClock()

        // When it syncs
        let engine = try makeEngine(replica, server, clock: clock)
        let error = await #expect(throws: ServerError.self) { try await engine.sync() }

        // Then it stopped at once with the reason and the way out, and kept the change
        #expect(await server.requestCount == 1)
        #expect(clock.sleeps.isEmpty)
        #expect(
            error?.description
                == "server answered 403: a reader token cannot push changes (forbidden) — this token's role does not allow it: ask an admin for a token whose role may do this"
        )
        #expect(try replica.pendingChanges(limit: 10).count == 1)
    }
}
