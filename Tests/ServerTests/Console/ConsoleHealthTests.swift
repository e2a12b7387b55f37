import Foundation
import HavenCore
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
}
