import Foundation
import HavenCore
import HavenServer
import Synchronization
import Testing
import TestSupport

@testable import HavenClient

/// The engine on a bad link: backoff, `Retry-After`, budgets, sizes that adapt, 413, gzip and
/// byte counts, against the real server in-process, a faulty link where the server cannot fail
/// the way a test needs, and a clock that never waits.
@Suite(.temporaryDirectory)
struct SyncEngineLinkTests {
    /// `count` published stories of another device, in the order the server will send them,
    /// each with a body of `bodyBytes` that gzip cannot shrink much.
    private static func stories(_ count: Int, bodyBytes: Int = 20) -> [RecordState] {
        (1...count).map { number in
            Fixtures.storyDelta(
                String(format: "00000000-0000-4000-8000-%012d", number),
                Fixtures.story("Page \(number)", body: incompressible(bodyBytes, seed: UInt64(number)))
                    .merging(["status": "published"]) { $1 },
                at: Fixtures.stamp(Fixtures.epoch - 60_000))
        }
    }

    /// Sizes that follow only what a test sets: no byte budget for pages.
    private static func sizes(
        batchSize: Int = 100, pageLimit: Int = 500, retry: RetryPolicy = RetryPolicy(), quickRequest: Double = 2,
        pageBytes: Int? = nil
    ) -> SyncEngine.Configuration {
        .init(batchSize: batchSize, pageLimit: pageLimit, retry: retry, quickRequest: quickRequest, pageBytes: pageBytes)
    }

    @Test func backoffDoublesBetweenFailuresInARow() async throws {
        // Given a link that drops the first four requests
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        let clock = ManualClock(0)
        try await server.run { client in
            try await server.seed(Self.stories(1), through: client)
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { $0.number <= 4 ? .dropRequest : nil }

            // When it syncs, drawing the longest waits
            let summary = try await makeEngine(replica, link, Self.sizes(), clock: clock).sync()

            // Then it probed again after 0.1, 0.2, 0.25 and 0.25 s (a dead link is probed
            // quickly, capped at a quarter of a second), and the fifth attempt got the page
            #expect(clock.sleeps == [0.1, 0.2, 0.25, 0.25])
            #expect(summary.retries == 4)
            #expect(router.pulls.count == 1)
            #expect(try replica.settings().cursor?.description == router.cursors.last)
        }
    }

    @Test func aServerThatAnswersWithErrorsGetsTheLongBackoff() async throws {
        // Given a server that answers the first four requests with 503, without Retry-After
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        let clock = ManualClock(0)
        try await server.run { client in
            try await server.seed(Self.stories(1), through: client)
            let link = FaultyLink(over: RouterTransport(client)) {
                $0.number <= 4 ? .status(503, .internal, message: "unavailable") : nil
            }

            // When it syncs, drawing the longest waits
            _ = try await makeEngine(replica, link, Self.sizes(), clock: clock).sync()

            // Then it backed off 0.5, 1, 2 and 4 s: an overloaded server is given room
            #expect(clock.sleeps == [0.5, 1, 2, 4])
        }
    }

    @Test func jitterDrawsEachWaitFromZeroToTheCeiling() async throws {
        // Given a link that drops the first three requests, and draws of a quarter
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        let clock = ManualClock(0)
        try await server.run { client in
            let link = FaultyLink(over: RouterTransport(client)) { $0.number <= 3 ? .dropRequest : nil }

            _ = try await makeEngine(replica, link, Self.sizes(), clock: clock, random: 0.25).sync()

            #expect(clock.sleeps == [0.025, 0.05, 0.0625])
        }
    }

    @Test(arguments: [429, 503])
    func retryAfterIsHonoured(status: Int) async throws {
        // Given a link that answers the first request with this status, asking to wait 7 s
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        let clock = ManualClock(0)
        try await server.run { client in
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { $0.number == 1 ? .retryAfter(status, value: "7") : nil }

            // When it syncs, drawing the shortest wait
            let summary = try await makeEngine(replica, link, Self.sizes(), clock: clock, random: 0).sync()

            // Then it waited the 7 s asked for, not less, and asked again
            #expect(clock.sleeps == [7])
            #expect(link.requests == 2)
            #expect(router.pulls.map(\.since) == [nil])
            #expect(summary.retries == 1)
        }
    }

    @Test func serverErrorsAreRetriedButOtherClientErrorsAreNot() async throws {
        // Given a link that fails with 500 once, then answers 400 as for a cursor the server does not know
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        let clock = ManualClock(0)
        try await server.run { client in
            let link = FaultyLink(over: RouterTransport(client)) { attempt in
                switch attempt.number {
                case 1: .status(500, .internal, message: "internal error")
                case 2: .status(400, .invalidCursor, message: "since: 'x' is not a cursor from this server")
                default: nil
                }
            }

            // When it syncs
            let error = await #expect(throws: ServerError.self) {
                try await makeEngine(replica, link, Self.sizes(), clock: clock).sync()
            }

            // Then the 500 was retried once, and the 400 stopped it with a way forward
            #expect(clock.sleeps.count == 1)
            #expect(error?.status == 400)
            #expect(error?.description.contains("update haven; unsent changes are kept") == true)
            #expect(link.requests == 2)
        }
    }

    @Test func givesUpWhenTheBudgetIsSpentAndSaysSo() async throws {
        // Given a link that is down for good and a one-minute budget
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        let clock = ManualClock(0)
        try await server.run { client in
            let link = FaultyLink(over: RouterTransport(client)) { _ in .dropRequest }

            // When it syncs
            let error = await #expect(throws: RetryBudgetExhausted.self) {
                try await makeEngine(replica, link, Self.sizes(retry: RetryPolicy(budget: 60)), clock: clock).sync()
            }

            // Then it probed every quarter of a second at most, 241 times within the minute (0.1
            // + 0.2 + 238 × 0.25 = 59.8 s of waits), then stopped with what to do next
            #expect(link.drops == 241)
            #expect(clock.now <= 60_000)
            #expect(
                error?.description
                    == "gave up pulling changes after 241 attempts over 60 s (last error: LinkDropped()); everything "
                    + "received so far is saved and unsent changes are kept: run 'haven sync' again when the link is "
                    + "better, or give it longer with --retry-for")
        }
    }

    @Test func linkFailingEveryOtherRequestStillCompletesRefetchingOnePagePerFailure() async throws {
        // Given five unsent changes, six stories on the server, and a link that loses every other answer
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        for number in 1...5 { try replica.add(.story, values: Fixtures.story("Local \(number)")) }
        try await server.run { client in
            try await server.seed(Self.stories(6), through: client)
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { $0.number % 2 == 0 ? .dropAnswer : nil }

            // When it syncs two changes per push and two records per page
            let summary = try await makeEngine(
                replica, link, Self.sizes(batchSize: 2, pageLimit: 2, retry: RetryPolicy(budget: nil))
            ).sync()

            // Then every change is on the server once, the replica has every record, and the outbox is empty
            #expect(router.applied.count == 5)
            #expect(Set(router.applied).count == 5)
            #expect(try replica.pendingChanges(limit: 10).isEmpty)
            #expect(try replica.records().count == 11)
            #expect(try replica.settings().cursor?.description == router.cursors.last)
            // Then each lost answer cost at most one page fetched twice: no page was fetched three
            // times, and there are no more extra fetches than lost answers
            let pulled = router.pulls.map(\.since)
            let distinct = Set(pulled).count
            #expect(Dictionary(grouping: pulled, by: { $0 }).values.allSatisfy { $0.count <= 2 })
            #expect(pulled.count - distinct <= link.drops)
            #expect(pulled.count > distinct)
            #expect(summary.retries == link.drops)
            #expect(summary.duplicate > 0)
        }
    }

    @Test func tooLargeHalvesTheBatchUntilItFits() async throws {
        // Given eight unsent changes and a server that takes about two per request
        let probe = try makeEmptyReplica(named: "probe.sqlite")
        try probe.add(.story, values: Fixtures.story("Local 0"))
        let one = try JSONEncoder().encode(PushRequest(changes: probe.pendingChanges(limit: 1))).count
        let server = try await InProcessServer.make(configuration: ServerConfiguration(maxBodyBytes: one * 2 + 100))
        let replica = try makeEmptyReplica(token: server.token(.editor))
        for number in 1...8 { try replica.add(.story, values: Fixtures.story("Local \(number)")) }
        try await server.run { client in
            let router = RouterTransport(client)

            // When it syncs, on a link too slow to grow the batch
            let summary = try await makeEngine(replica, router, Self.sizes(batchSize: 8, quickRequest: -1)).sync()

            // Then it sent 8, 4, then 2 at a time, and every change arrived
            #expect(router.pushes.map(\.changes.count) == [8, 4, 2, 2, 2, 2])
            #expect(router.pushes.map(\.status) == [413, 413, 200, 200, 200, 200])
            #expect(router.applied.count == 8)
            #expect(summary.retries == 2)
            #expect(summary.batchSize == 2)
            #expect(try replica.settings().batchSize == 2)
        }
    }

    @Test func changeTooLargeAloneIsRejectedLocallyAndTheRestGoesOn() async throws {
        // Given a huge story between two small ones, and a server that takes 4 KB per request
        let server = try await InProcessServer.make(configuration: ServerConfiguration(maxBodyBytes: 4_000))
        let replica = try makeEmptyReplica(token: server.token(.editor))
        let small = try replica.add(.story, values: Fixtures.story("Small"))
        let huge = try replica.add(.story, values: Fixtures.story("Huge", body: Self.incompressible(20_000, seed: 7)))
        let after = try replica.add(.story, values: Fixtures.story("After"))
        try await server.run { client in
            let router = RouterTransport(client)

            // When it syncs
            let summary = try await makeEngine(replica, router, Self.sizes(quickRequest: -1)).sync()

            // Then the small ones arrived, the huge one is kept, rejected, with what to do
            let applied = Set(router.pushes.filter { $0.status == 200 }.flatMap(\.changes).map(\.record.id))
            #expect(applied == [small, after])
            #expect(router.pushes.contains { $0.status == 413 && $0.changes.map(\.record.id) == [huge] })
            #expect(summary.rejected == 1)
            let rejected = try replica.rejectedChanges()
            #expect(rejected.map(\.recordID) == [huge])
            #expect(rejected.first?.code == .tooLarge)
            #expect(rejected.first?.message.contains("more than the server takes in one request") == true)
            #expect(rejected.first?.message.contains("'haven stories edit \(huge)'") == true)
            #expect(try replica.record(huge).values["title"] == "Huge")
        }
    }

    @Test func pageSizeGrowsAfterQuickFullPagesAndIsKept() async throws {
        // Given a replica whose link last allowed 4 records per page, and 50 stories on the server
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.reader))
        try replica.saveSyncSizes(batch: 100, page: 4)
        try await server.run { client in
            try await server.seed(Self.stories(50), through: client)
            let router = RouterTransport(client)

            // When it pulls quick, full pages
            let summary = try await makeEngine(replica, router, Self.sizes(pageLimit: 12)).sync()

            // Then each next page asked for half more, up to the maximum, and the size is kept
            #expect(router.pulls.map(\.limit) == [4, 6, 9, 12, 12, 12])
            #expect(summary.pageSize == 12)
            #expect(try replica.settings().pageSize == 12)
        }
    }

    @Test func pageSizeShrinksAfterFailuresAndSlowAnswers() async throws {
        // Given 14 stories on the server, and a link that drops the first pull, then answers
        // each one after 20 s
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.reader))
        let clock = ManualClock(0)
        try await server.run { client in
            try await server.seed(Self.stories(14), through: client)
            let router = RouterTransport(client)
            let slow = FaultyLink(over: router) { attempt in
                guard attempt.number > 1 else { return .dropRequest }
                clock.advance(by: 20_000)
                return nil
            }

            // When it syncs, asking for at most 16 records a page
            let summary = try await makeEngine(replica, slow, Self.sizes(pageLimit: 16), clock: clock).sync()

            // Then it halved after the drop and after each slow page
            #expect(router.pulls.map(\.limit) == [8, 4, 2])
            #expect(summary.pageSize == 1)

            // When a new engine starts
            _ = try await makeEngine(replica, router, Self.sizes(pageLimit: 16)).sync()

            // Then it starts from what the link last allowed
            #expect(router.pulls.last?.limit == 1)
        }
    }

    @Test func pagesStayUnderTheByteBudgetUntilATenthOfTheDownloadIsMore() async throws {
        // Given forty stories on the server, about 800 bytes each, and a budget of 4 KB a page
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.reader))
        try await server.run { client in
            try await server.seed(Self.stories(40, bodyBytes: 600), through: client)
            let router = RouterTransport(client)

            // When it syncs
            _ = try await makeEngine(replica, router, Self.sizes(pageBytes: 4_096)).sync()

            // Then it asked for 4 records first (1 KB each, as it guessed), then for what fits in
            // 4 KB at the size it saw, and for more only once a tenth of what it had received was more
            let pulls = router.pulls
            #expect(pulls.first?.limit == 4)
            let firstPerRecord = Double(pulls[0].wireBytes) / 4
            #expect(pulls.count > 2)
            #expect(pulls[1].limit == Int(4_096 / firstPerRecord))
            var received = 0
            var records = 0
            for pull in pulls {
                if records > 0 {
                    let fits = Int(Double(max(4_096, received / 10)) / (Double(received) / Double(records))) + 1
                    #expect((pull.limit ?? .max) <= fits, "asked for \(pull.limit ?? -1) after \(received) bytes")
                }
                received += pull.wireBytes
                records += pull.page?.changes.count ?? 0
            }
            #expect(try replica.records().count == 40)
        }
    }

    @Test func largePushBodiesAreGzippedAndBytesAreCounted() async throws {
        // Given one small and then many unsent changes
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try replica.add(.story, values: Fixtures.story("Short"))
        try await server.run { client in
            let router = RouterTransport(client)
            let engine = try makeEngine(replica, router, Self.sizes(batchSize: 50))
            var summary = SyncEngine.Summary()
            try await engine.push(into: &summary)
            for number in 1...20 { try replica.add(.story, values: Fixtures.story("Story \(number)")) }

            // When it syncs
            try await engine.push(into: &summary)
            try await engine.pull(into: &summary)

            // Then the small body went plain, the large one gzipped, every request asked for gzip
            #expect(router.pushes.map(\.contentEncoding) == [nil, "gzip"])
            let sizes = router.pushes.map(\.bodyBytes)
            #expect(sizes[0] < 1024)
            #expect(router.applied.count == 21)
            #expect(router.exchanges.allSatisfy { $0.request.headers["Accept-Encoding"] == "gzip" })
            // Then the bytes counted are the bytes sent, compressed, and those received
            #expect(summary.bytesSent == sizes.reduce(0, +))
            #expect(summary.bytesReceived == router.exchanges.map { $0.response.header("Content-Length").flatMap { Int($0) } ?? -1 }.reduce(0, +))
        }
    }

    @Test func progressIsReportedAfterEveryPageBatchAndWait() async throws {
        // Given one unsent story, another on the server, and a link that drops the second page once
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try replica.add(.story, values: Fixtures.story())
        let reports = Reports()
        try await server.run { client in
            try await server.seed(Self.stories(1), through: client)
            let link = FaultyLink(over: RouterTransport(client)) { $0.isPull && $0.ofItsKind == 2 ? .dropRequest : nil }

            // When it syncs one record a page
            _ = try await makeEngine(replica, link, Self.sizes(pageLimit: 1), progress: reports.add).sync()
        }

        // Then it told of the batch, the first page, the wait, and the second page
        let seen = reports.all
        #expect(seen.map(\.summary.pushed) == [1, 1, 1, 1])
        #expect(seen.map(\.summary.pages) == [0, 1, 1, 2])
        #expect(seen.map(\.retryingIn) == [nil, nil, 0.1, nil])
        #expect(seen[2].lastFailure == "LinkDropped()")
    }

    /// `count` characters that gzip cannot shrink much, so that the body stays large on the wire.
    private static func incompressible(_ count: Int, seed: UInt64) -> String {
        var generator = SplitMix64(seed: seed)
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in generator.pick(letters) })
    }
}

/// Progress reports, kept in order.
private final class Reports: Sendable {
    private let reports = Mutex<[SyncProgress]>([])
    var all: [SyncProgress] { reports.withLock { $0 } }
    @Sendable func add(_ progress: SyncProgress) { reports.withLock { $0.append(progress) } }
}
