import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient

/// Numbers a server sends (`Retry-After`, `Content-Length`, `serverTime`) are peer input: a broken or
/// hostile server must not make the client trap, wait for ages or stamp edits with nonsense. The
/// real server in-process, with a faulty link for the numbers it would never send.
@Suite(.temporaryDirectory)
struct ServerNumbersTests {
    /// A published story on the server, for a pull to bring.
    private static let shelter = Fixtures.storyDelta(
        RecordIDs.first, Fixtures.story("Shelter").merging(["status": "published"]) { $1 },
        at: Fixtures.stamp(Fixtures.epoch - 60_000))

    @Test(arguments: ["1e300", "99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"])
    func retryAfterBeyondAnHourWaitsAnHour(value: String) async throws {
        // Given a link that answers 429 with an absurd Retry-After once, under `sync --watch`
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.reader))
        let clock = ManualClock(0)
        try await server.run { client in
            try await server.seed([Self.shelter], through: client)
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { $0.number == 1 ? .retryAfter(429, value: value) : nil }

            // When it syncs, retrying forever
            _ = try await makeEngine(replica, link, .init(retry: .forever), clock: clock, random: 0).sync()

            // Then it waited an hour, not the time asked for, and then got the page
            #expect(clock.sleeps == [RetryPolicy.maxRetryAfter])
            #expect(RetryPolicy.maxRetryAfter == 3_600)
            #expect(try replica.settings().cursor?.description == router.cursors.last)
            #expect(try replica.record(RecordIDs.first).values["title"] == "Shelter")
        }
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
        // Given a link on which every answer claims the largest Content-Length there is
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.reader))
        try await server.run { client in
            try await server.seed(
                [Self.shelter, Fixtures.storyDelta(RecordIDs.second, Fixtures.story("Hotline").merging(["status": "published"]) { $1 }, at: Fixtures.stamp(Fixtures.epoch - 60_000))],
                through: client)
            let lying = FaultyLink(over: RouterTransport(client)) { _ in
                .rewrite { $0.headers["content-length"] = String(Int.max) }
            }

            // When it syncs two pages
            let summary = try await makeEngine(replica, lying, .init(pageLimit: 1)).sync()

            // Then it finished, counting no more than the bodies could have been on the wire
            #expect(summary.pages == 2)
            #expect(summary.bytesReceived > 0 && summary.bytesReceived < 10_000)
        }
    }

    @Test func serverTimeBeyondTheClockRangeIsHeldToIt() async throws {
        // Given a server whose clock reads the largest 64-bit number
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.reader))
        try await server.run { client in
            try await server.seed([Self.shelter], through: client)
            server.clock.now = .max

            // When it syncs, and a story is written afterwards
            _ = try await makeEngine(replica, RouterTransport(client)).sync()
        }
        let id = try replica.add(.story, values: Fixtures.story("After"))

        // Then the record was kept and the new edit was stamped within the clock's range
        #expect(try replica.record(RecordIDs.first).values["title"] == "Shelter")
        let stamp = try #require(try replica.record(id).fields["title"]?.stamp)
        #expect(stamp.physical <= Timestamp.maxPhysical)
    }
}
