import Foundation
import HavenCore
import Synchronization
import Testing

@testable import HavenClient

/// The engine on a bad link: backoff, `Retry-After`, budgets, sizes that adapt, 413, gzip and
/// byte counts, against an in-memory server and a clock that never waits.
@Suite(.temporaryDirectory)
struct SyncEngineLinkTests {
    /// `count` pages of one story each, chained by cursors 1…count, `more` on all but the last.
    private static func pages(_ count: Int) -> [SyncCursor?: PullResponse] {
        let stamp = Fixtures.stamp(Fixtures.epoch - 60_000)
        var pages: [SyncCursor?: PullResponse] = [:]
        for number in 1...count {
            let id = String(format: "00000000-0000-4000-8000-%012d", number)
            pages[number == 1 ? nil : Fixtures.cursor(Int64(number - 1))] = Fixtures.page(
                [Fixtures.storyDelta(id, Fixtures.story("Page \(number)"), at: stamp)],
                cursor: Fixtures.cursor(Int64(number)), more: number < count)
        }
        return pages
    }

    private func makeEngine(
        _ replica: Replica, _ transport: any HTTPTransport, batchSize: Int = 100, pageLimit: Int = 500,
        retry: RetryPolicy = RetryPolicy(), clock: TestClock = TestClock(), random: Double = 1,
        quickRequest: Double = 2, pageBytes: Int? = nil, progress: (@Sendable (SyncProgress) -> Void)? = nil
    ) throws -> SyncEngine {
        SyncEngine(
            replica: replica, api: ServerAPI(server: Fixtures.server, token: Fixtures.token, transport: transport),
            configuration: .init(
                batchSize: batchSize, pageLimit: pageLimit, retry: retry, quickRequest: quickRequest,
                pageBytes: pageBytes),
            clock: clock.syncClock, random: { random }, progress: progress)
    }

    @Test func backoffDoublesBetweenFailuresInARow() async throws {
        // Given a link that drops the first four pulls
        let replica = try makeEmptyReplica()
        let clock = TestClock()
        let engine = try makeEngine(replica, DropsFirst(4, then: FakeServer(pages: Self.pages(1))), clock: clock)

        // When it syncs, drawing the longest waits
        let summary = try await engine.sync()

        // Then it waited 0.5, 1, 2 and 4 s, and the fifth attempt got the page
        #expect(clock.sleeps == [0.5, 1, 2, 4])
        #expect(summary.retries == 4)
        #expect(try replica.settings().cursor == Fixtures.cursor(1))
    }

    @Test func jitterDrawsEachWaitFromZeroToTheCeiling() async throws {
        // Given a link that drops the first three pulls, and draws of a quarter
        let replica = try makeEmptyReplica()
        let clock = TestClock()
        let engine = try makeEngine(
            replica, DropsFirst(3, then: FakeServer(pages: Self.pages(1))), clock: clock, random: 0.25)

        _ = try await engine.sync()

        #expect(clock.sleeps == [0.125, 0.25, 0.5])
    }

    @Test(arguments: [429, 503])
    func retryAfterIsHonoured(status: Int) async throws {
        // Given a server that asks to wait 7 s once
        let replica = try makeEmptyReplica()
        let server = FakeServer(pages: Self.pages(1), faults: [nil: .retryAfter(status, value: "7")])
        let clock = TestClock()

        // When it syncs, drawing the shortest wait
        let summary = try await makeEngine(replica, server, clock: clock, random: 0).sync()

        // Then it waited the 7 s asked for, not less, and asked again
        #expect(clock.sleeps == [7])
        #expect(await server.pulledSince == [nil, nil])
        #expect(summary.retries == 1)
    }

    @Test func serverErrorsAreRetriedButOtherClientErrorsAreNot() async throws {
        // Given a server that fails with 500 once, then answers 400 for a cursor it does not know
        let replica = try makeEmptyReplica()
        let server = FakeServer(faults: [nil: .status(500, code: "internal", message: "oops")])
        let clock = TestClock()

        // When it syncs
        let error = await #expect(throws: ServerError.self) {
            try await makeEngine(replica, server, clock: clock).sync()
        }

        // Then the 500 was retried once, and the 400 stopped it with a way forward
        #expect(clock.sleeps.count == 1)
        #expect(error?.status == 400)
        #expect(error?.description.contains("update haven; unsent changes are kept") == true)
        #expect(await server.requestCount == 2)
    }

    @Test func givesUpWhenTheBudgetIsSpentAndSaysSo() async throws {
        // Given a link that is down for good and a one-minute budget
        let replica = try makeEmptyReplica()
        let flaky = FlakyTransport(failingEvery: 1, drop: .request, then: FakeServer(pages: Self.pages(1)))
        let clock = TestClock()

        // When it syncs
        let error = await #expect(throws: RetryBudgetExhausted.self) {
            try await makeEngine(replica, flaky, retry: RetryPolicy(budget: 60), clock: clock).sync()
        }

        // Then it tried seven times within the minute, then stopped with what to do next
        #expect(flaky.drops == 7)
        #expect(clock.now <= 60)
        #expect(
            error?.description
                == "gave up pulling changes after 7 attempts over 32 s (last error: LinkDropped()); everything "
                + "received so far is saved and unsent changes are kept: run 'haven sync' again when the link is "
                + "better, or give it longer with --retry-for")
    }

    @Test func linkFailingEveryOtherRequestStillCompletesRefetchingOnePagePerFailure() async throws {
        // Given five unsent changes, a server with six pages, and a link that loses every other answer
        let replica = try makeEmptyReplica()
        for number in 1...5 { try replica.add(.story, values: Fixtures.story("Local \(number)")) }
        let server = FakeServer(pages: Self.pages(6))
        let flaky = FlakyTransport(failingEvery: 2, drop: .answer, then: server)

        // When it syncs two changes per push
        let summary = try await makeEngine(replica, flaky, batchSize: 2, retry: RetryPolicy(budget: nil)).sync()

        // Then every change is on the server once, the replica has every page, and the outbox is empty
        #expect(await server.applied.count == 5)
        #expect(Set(await server.applied.map(\.id)).count == 5)
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
        #expect(try replica.records().count == 11)
        #expect(try replica.settings().cursor == Fixtures.cursor(6))
        // Then each lost answer cost at most one page fetched twice: no page was fetched three
        // times, and there are no more extra fetches than lost answers
        let pulled = await server.pulledSince
        #expect(Set(pulled).count == 6)
        #expect(Dictionary(grouping: pulled, by: { $0 }).values.allSatisfy { $0.count <= 2 })
        #expect(pulled.count - 6 <= flaky.drops)
        #expect(pulled.count > 6)
        #expect(summary.retries == flaky.drops)
        #expect(summary.duplicate > 0)
    }

    @Test func tooLargeHalvesTheBatchUntilItFits() async throws {
        // Given eight unsent changes and a server that takes about two per request
        let replica = try makeEmptyReplica()
        for number in 1...8 { try replica.add(.story, values: Fixtures.story("Local \(number)")) }
        let one = try JSONEncoder().encode(PushRequest(changes: replica.pendingChanges(limit: 1))).count
        let server = FakeServer(pages: Self.pages(1), maxBodyBytes: one * 2 + 100)

        // When it syncs, on a link too slow to grow the batch
        let summary = try await makeEngine(replica, server, batchSize: 8, quickRequest: -1).sync()

        // Then it sent 8, 4, then 2 at a time, and every change arrived
        #expect(await server.pushedBatches.map(\.count) == [8, 4, 2, 2, 2, 2])
        #expect(await server.applied.count == 8)
        #expect(summary.retries == 2)
        #expect(summary.batchSize == 2)
        #expect(try replica.settings().batchSize == 2)
    }

    @Test func changeTooLargeAloneIsRejectedLocallyAndTheRestGoesOn() async throws {
        // Given a huge story between two small ones, and a server that takes 4 KB per request
        let replica = try makeEmptyReplica()
        let small = try replica.add(.story, values: Fixtures.story("Small"))
        let huge = try replica.add(.story, values: Fixtures.story("Huge", body: String(repeating: "x", count: 20_000)))
        let after = try replica.add(.story, values: Fixtures.story("After"))
        let server = FakeServer(pages: Self.pages(1), maxBodyBytes: 4_000)

        // When it syncs
        let summary = try await makeEngine(replica, server, quickRequest: -1).sync()

        // Then the small ones arrived, the huge one is kept, rejected, with what to do
        #expect(Set(await server.applied.map(\.record.id)) == [small, after])
        #expect(summary.rejected == 1)
        let rejected = try replica.rejectedChanges()
        #expect(rejected.map(\.recordID) == [huge])
        #expect(rejected.first?.code == .tooLarge)
        #expect(rejected.first?.message.contains("more than the server takes in one request") == true)
        #expect(rejected.first?.message.contains("'haven stories edit \(huge)'") == true)
        #expect(try replica.record(huge).values["title"] == "Huge")
    }

    @Test func pageSizeGrowsAfterQuickFullPagesAndIsKept() async throws {
        // Given a replica whose link last allowed 100 records per page
        let replica = try makeEmptyReplica()
        try replica.saveSyncSizes(batch: 100, page: 100)
        let server = FakeServer(pages: Self.pages(5))

        // When it pulls five quick, full pages
        let summary = try await makeEngine(replica, server, pageLimit: 300).sync()

        // Then each next page asked for half more, up to the maximum, and the size is kept
        #expect(await server.pulledLimits == [100, 150, 225, 300, 300])
        #expect(summary.pageSize == 300)
        #expect(try replica.settings().pageSize == 300)
    }

    @Test func pageSizeShrinksAfterFailuresAndSlowAnswers() async throws {
        // Given a link that drops the first pull, then answers each one after 20 s
        let replica = try makeEmptyReplica()
        let clock = TestClock()
        let server = FakeServer(pages: Self.pages(3))
        let slow = SlowTransport(seconds: 20, clock: clock, then: DropsFirst(1, then: server))

        // When it syncs
        let summary = try await makeEngine(replica, slow, clock: clock).sync()

        // Then it halved after the drop and after each slow page
        #expect(await server.pulledLimits == [250, 125, 62])
        #expect(summary.pageSize == 31)

        // When a new engine starts
        let next = FakeServer(pages: [Fixtures.cursor(3): Fixtures.page([], cursor: Fixtures.cursor(3))])
        _ = try await makeEngine(replica, next).sync()

        // Then it starts from what the link last allowed
        #expect(await next.pulledLimits == [31])
    }

    @Test func pagesStayUnderTheByteBudgetUntilATenthOfTheDownloadIsMore() async throws {
        // Given forty pages of one story, about 400 bytes each, and a budget of 4 KB a page
        let replica = try makeEmptyReplica()
        let server = FakeServer(pages: Self.pages(40))
        let perRecord = try JSONEncoder().encode(Self.pages(40)[nil]!).count

        // When it syncs
        _ = try await makeEngine(replica, server, pageBytes: 4_096).sync()

        // Then it asked for 4 records first (1 KB each, as it guessed), then for what fits in 4 KB
        // at the size it saw, and for more only once a tenth of what it had received was more
        let limits = await server.pulledLimits
        #expect(limits.first == 4)
        #expect(limits[1] == 4_096 / perRecord)
        var received = 0
        for limit in limits {
            #expect(limit <= max(4_096, received / 10) / perRecord + 1, "asked for \(limit) after \(received) bytes")
            received += perRecord
        }
    }

    @Test func largePushBodiesAreGzippedAndBytesAreCounted() async throws {
        // Given one small and then many unsent changes
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story("Short"))
        let server = FakeServer(pages: Self.pages(1))
        let engine = try makeEngine(replica, server, batchSize: 50)
        var summary = SyncEngine.Summary()
        try await engine.push(into: &summary)
        for number in 1...20 { try replica.add(.story, values: Fixtures.story("Story \(number)")) }

        // When it syncs
        try await engine.push(into: &summary)
        try await engine.pull(into: &summary)

        // Then the small body went plain, the large one gzipped, every request asked for gzip
        #expect(await server.pushEncodings == [nil, "gzip"])
        let sizes = await server.pushBodySizes
        #expect(sizes[0] < 1024)
        #expect(await server.applied.count == 21)
        #expect(await server.acceptEncodings.allSatisfy { $0 == "gzip" })
        // Then the bytes counted are the bytes sent, compressed, and those received
        #expect(summary.bytesSent == sizes.reduce(0, +))
        let page = try JSONEncoder().encode(Self.pages(1)[nil]!).count
        #expect(summary.bytesReceived > page)
    }

    @Test func progressIsReportedAfterEveryPageBatchAndWait() async throws {
        // Given a link that drops the second page once
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story())
        let reports = Reports()
        let server = FakeServer(pages: Self.pages(2), faults: [Fixtures.cursor(1): .dropLink])

        // When it syncs
        _ = try await makeEngine(replica, server, progress: reports.add).sync()

        // Then it told of the batch, the first page, the wait, and the second page
        let seen = reports.all
        #expect(seen.map(\.summary.pushed) == [1, 1, 1, 1])
        #expect(seen.map(\.summary.pages) == [0, 1, 1, 2])
        #expect(seen.map(\.retryingIn) == [nil, nil, 0.5, nil])
        #expect(seen[2].lastFailure == "LinkDropped()")
    }
}

/// A transport that drops the first `count` requests, then passes the others on.
private final class DropsFirst: HTTPTransport {
    private let remaining: Mutex<Int>
    private let next: any HTTPTransport

    init(_ count: Int, then next: any HTTPTransport) {
        self.remaining = Mutex(count)
        self.next = next
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let drop = remaining.withLock { remaining in
            defer { remaining -= 1 }
            return remaining > 0
        }
        if drop { throw FakeServer.LinkDropped() }
        return try await next.send(request)
    }
}

/// A transport whose answers take `seconds` on the test clock.
private struct SlowTransport: HTTPTransport {
    let seconds: Double
    let clock: TestClock
    let then: any HTTPTransport

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        clock.advance(by: seconds)
        return try await then.send(request)
    }
}

/// Progress reports, kept in order.
private final class Reports: Sendable {
    private let reports = Mutex<[SyncProgress]>([])
    var all: [SyncProgress] { reports.withLock { $0 } }
    @Sendable func add(_ progress: SyncProgress) { reports.withLock { $0.append(progress) } }
}
