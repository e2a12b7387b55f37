import Foundation
import HavenCore
import HummingbirdTesting
import Logging
import Testing

@testable import HavenServer

/// What the console's health page reads beyond the database: long-polls waiting, the last compaction.
struct ConsoleHealthTests {
    @Test func aLongPollIsCountedWhileItWaits() async throws {
        let activity = ServerActivity()
        let (entered, enter) = AsyncStream<Void>.makeStream()
        let (released, release) = AsyncStream<Void>.makeStream()
        let poll = Task {
            await activity.waiting {
                enter.yield()
                for await _ in released { break }
            }
        }
        for await _ in entered { break }
        #expect(activity.longPolls == 1)
        release.yield()
        await poll.value
        #expect(activity.longPolls == 0)
    }

    @Test func aCompactionIsNotedWithItsTimeAndCounts() async throws {
        let server = try await TestServer.make()
        let activity = ServerActivity()
        #expect(activity.lastCompaction == nil)
        let service = CompactionService(
            log: server.log, logger: Logger(label: "console-health-tests", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: { TestServer.now }, activity: activity)
        let summary = try #require(await service.compactOnce())
        #expect(activity.lastCompaction == ServerActivity.Compaction(at: TestServer.now, summary: summary))
    }

    @Test func pushesAndPullsAreCountedByHourForTheLastDay() {
        let activity = ServerActivity()
        let hour = ServerActivity.hour
        let start = TestServer.now - TestServer.now % hour
        activity.count(.push, at: start + 5)
        activity.count(.pull, at: start + 6)
        activity.count(.pull, at: start + 2 * hour + 1)

        let day = activity.lastDay(now: start + 2 * hour + 10)
        #expect(day.count == 24)
        #expect(day.last == ServerActivity.Hour(start: start + 2 * hour, pushes: 0, pulls: 1))
        #expect(day[21] == ServerActivity.Hour(start: start, pushes: 1, pulls: 1))
        #expect(day.dropLast().reduce(0) { $0 + $1.pulls } == 1)

        // A day later the first hour has left the chart
        activity.count(.push, at: start + 25 * hour)
        let later = activity.lastDay(now: start + 25 * hour)
        #expect(later.reduce(0) { $0 + $1.pushes } == 1)
        #expect(later.reduce(0) { $0 + $1.pulls } == 1)
    }

    @Test func anyReadingOfTheClockIsCountedWithoutOverflow() {
        // Given a clock at the end of its range, then one that went back an hour, then to zero
        let activity = ServerActivity()
        let hour = ServerActivity.hour
        let last = UInt64.max - UInt64.max % hour
        activity.count(.pull, at: .max)
        activity.count(.push, at: last - 1)
        activity.count(.pull, at: .max - 1)
        activity.count(.push, at: 0)

        // Then each is counted in its own hour, and the day up to the newest holds the first three
        let day = activity.lastDay(now: .max)
        #expect(day.last == ServerActivity.Hour(start: last, pushes: 0, pulls: 2))
        #expect(day[22] == ServerActivity.Hour(start: last - hour, pushes: 1, pulls: 0))
        #expect(activity.lastDay(now: 0).last == ServerActivity.Hour(start: 0))
    }

    @Test func theHealthPageChartsThePushesAndPullsItServed() async throws {
        let server = try await TestServer.make()
        try await server.test { client in
            var device = Device("d1")
            _ = try await client.push([device.change(RecordID.random(), .resource, Fields.resource("상담"))], token: server["editor"])
            _ = try await client.pull(token: server["reader"])
            var browser = ConsoleBrowser(client)
            try await browser.signIn(server["editor"])
            let page = try await browser.get("/console/health").text
            #expect(page.contains("since it started: 1 pushes, 1 pulls."))
            #expect(page.contains("<svg class=\"chart\" role=\"img\""))
            #expect(page.components(separatedBy: "<rect ").count - 1 == 48)
        }
    }
}
