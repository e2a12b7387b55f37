import Foundation
import HavenCore
import Testing

@testable import HavenClient

/// Numbers a server sends (`Retry-After`, `Content-Length`, `serverTime`) are peer input: a broken or
/// hostile server must not make the client trap, wait for ages or stamp edits with nonsense.
@Suite(.temporaryDirectory)
struct ServerNumbersTests {
    private func makeEngine(
        _ replica: Replica, _ transport: any HTTPTransport, retry: RetryPolicy = .forever, clock: TestClock
    ) -> SyncEngine {
        SyncEngine(
            replica: replica, api: ServerAPI(server: Fixtures.server, token: Fixtures.token, transport: transport),
            configuration: .init(retry: retry), clock: clock.syncClock, random: { 0 })
    }

    private static func onePage(serverTime: UInt64 = Fixtures.epoch, more: Bool = false) -> PullResponse {
        let stamp = Fixtures.stamp(Fixtures.epoch - 60_000)
        return PullResponse(
            changes: [Fixtures.storyDelta(RecordIDs.first, Fixtures.story("Shelter"), at: stamp)], conflicts: [],
            cursor: Fixtures.cursor(1), more: more, serverTime: serverTime)
    }

    @Test(arguments: ["1e300", "99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
    func retryAfterBeyondAnHourWaitsAnHour(value: String) async throws {
        // Given a server that answers 429 with an absurd Retry-After once, under `sync --watch`
        let replica = try makeEmptyReplica()
        let server = FakeServer(pages: [nil: Self.onePage()], faults: [nil: .retryAfter(429, value: value)])
        let clock = TestClock()

        // When it syncs, retrying forever
        _ = try await makeEngine(replica, server, clock: clock).sync()

        // Then it waited an hour, not the time asked for, and then got the page
        #expect(clock.sleeps == [RetryPolicy.maxRetryAfter])
        #expect(RetryPolicy.maxRetryAfter == 3_600)
        #expect(try replica.settings().cursor == Fixtures.cursor(1))
    }

    @Test(arguments: ["1e300", "inf", "nan", "-5"])
    func retryAfterIsReadWithinZeroAndAnHour(value: String) {
        let seconds = ServerError.retryAfter(value)

        let inRange = seconds.map { (0...RetryPolicy.maxRetryAfter).contains($0) } ?? true
        #expect(inRange, "\(value): \(String(describing: seconds))")
    }

    @Test func retryPolicyHoldsAFloorAboveAnHourToAnHour() {
        #expect(RetryPolicy().delay(forRetry: 1, random: 0, retryAfter: 1e300) == RetryPolicy.maxRetryAfter)
        #expect(RetryPolicy().delay(forRetry: 1, random: 0, retryAfter: .infinity) == RetryPolicy.maxRetryAfter)
    }

    @Test(arguments: [1e300, .infinity, -.infinity, .nan, -1])
    func sleepsOfAnySecondsAreHeldWithinADay(seconds: Double) {
        let duration = Duration.sleep(seconds: seconds)

        #expect(duration >= .zero && duration <= .seconds(86_400), "\(seconds): \(duration)")
    }

    @Test func absurdContentLengthsDoNotOverflowTheByteCounts() async throws {
        // Given a server whose every answer claims the largest Content-Length there is
        let replica = try makeEmptyReplica()
        let server = FakeServer(pages: [
            nil: Self.onePage(more: true), Fixtures.cursor(1): Fixtures.page([], cursor: Fixtures.cursor(2)),
        ])
        let lying = RewritesAnswers(then: server) { $0.headers["content-length"] = String(Int.max) }

        // When it syncs two pages
        let summary = try await makeEngine(replica, lying, clock: TestClock()).sync()

        // Then it finished, counting no more than the bodies could have been on the wire
        #expect(summary.pages == 2)
        #expect(summary.bytesReceived > 0 && summary.bytesReceived < 10_000)
    }

    @Test func serverTimeBeyondTheClockRangeIsHeldToIt() async throws {
        // Given a server that says its clock reads the largest 64-bit number
        let replica = try makeEmptyReplica()
        let server = FakeServer(pages: [nil: Self.onePage(serverTime: .max)])
        let clock = TestClock()

        // When it syncs, and a story is written afterwards
        _ = try await makeEngine(replica, server, clock: clock).sync()
        let id = try replica.add(.story, values: Fixtures.story("After"))

        // Then the record was kept and the new edit was stamped within the clock's range
        #expect(try replica.record(RecordIDs.first).values["title"] == "Shelter")
        let stamp = try #require(try replica.record(id).fields["title"]?.stamp)
        #expect(stamp.physical <= Timestamp.maxPhysical)
    }
}

/// A transport that changes every answer before the client sees it.
private struct RewritesAnswers: HTTPTransport {
    let then: any HTTPTransport
    let rewrite: @Sendable (inout HTTPResponse) -> Void

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var response = try await then.send(request)
        rewrite(&response)
        return response
    }
}
