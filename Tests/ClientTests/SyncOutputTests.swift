import ArgumentParser
import Foundation
import HavenCore
import Synchronization
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// What a person (or a script) reads from `haven sync` and `haven status`: the progress line,
/// the `--json` summary and the status lines.
@Suite(.temporaryDirectory)
struct SyncOutputTests {
    /// A sync of one change and five stories (four on the server), four a page, against the
    /// real server in-process; the link drops the second page once.
    private func syncOnce(progress: ProgressLine? = nil) async throws -> (Replica, SyncEngine.Summary, RouterTransport) {
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        try replica.add(.story, values: Fixtures.story())
        let stories = (1...4).map { number in
            Fixtures.storyDelta(
                String(format: "00000000-0000-4000-8000-%012d", number), Fixtures.story("Pulled \(number)"),
                at: Fixtures.stamp(Fixtures.epoch - 1))
        }
        return try await server.run { client in
            try await server.seed(stories, through: client)
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { $0.isPull && $0.ofItsKind == 2 ? .dropRequest : nil }
            let engine = try makeEngine(replica, link, .init(pageLimit: 4), progress: progress?.update)
            return (replica, try await engine.sync(), router)
        }
    }

    @Test(arguments: [(true, true, true), (false, true, false), (true, false, false), (false, false, false)])
    func progressShowsOnlyWhenBothOutputsAreTerminals(stdout: Bool, stderr: Bool, shows: Bool) {
        #expect(ProgressLine.shows(stdoutIsTerminal: stdout, stderrIsTerminal: stderr) == shows)
    }

    @Test func progressIsSilentWhenNotATerminal() async throws {
        // Given a progress line for output that is not a terminal
        let written = Written()
        let line = ProgressLine(enabled: false, write: written.add)

        // When a sync reports to it and finishes
        _ = try await syncOnce(progress: line)
        line.finish()

        // Then nothing was written
        #expect(written.text.isEmpty)
    }

    @Test func progressRewritesOneLineOnATerminal() async throws {
        // Given a progress line for a terminal
        let written = Written()
        let line = ProgressLine(enabled: true, write: written.add)

        // When a sync reports to it and finishes
        _ = try await syncOnce(progress: line)
        line.finish()

        // Then each update rewrote the same line, told of the wait, and the line was blanked at the end
        let updates = written.parts
        #expect(updates.allSatisfy { $0.hasPrefix("\r") && !$0.contains("\n") })
        #expect(updates.contains { $0.hasPrefix("\rreceived 4 records (") && $0.contains("in 1 page, sent 1 change") })
        #expect(updates.contains { $0.contains("; retrying in 1 s: LinkDropped()") })
        let last = updates.last ?? ""
        #expect(last.count > 2 && last.hasPrefix("\r") && last.hasSuffix("\r"))
        #expect(last.dropFirst().dropLast().allSatisfy { $0 == " " })
    }

    @Test func jsonSummaryHasCountsBytesRetriesAndElapsed() async throws {
        // Given a sync that pushed one change and retried one page
        let (_, summary, router) = try await syncOnce()

        // When the summary is printed as --json prints it
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let object = try #require(
            try JSONSerialization.jsonObject(with: encoder.encode(summary)) as? [String: Any])

        // Then it has every field, with what happened
        #expect(
            Set(object.keys) == [
                "pushed", "applied", "duplicate", "rejected", "purged", "restamped", "pulledRecords",
                "removedRecords", "keptRecords", "pages", "newConflicts", "redownloaded", "bytesSent", "bytesReceived",
                "retries", "elapsed", "batchSize", "pageSize", "publishedSet", "unverifiedRecords", "mediaUploaded",
                "mediaDownloaded", "mediaBytesSent", "mediaBytesReceived", "mediaFailed",
            ])
        #expect(object["pushed"] as? Int == 1)
        // A server without a signing key: nothing to verify, and nothing unverified
        #expect(object["publishedSet"] as? String == "unsigned")
        #expect(object["unverifiedRecords"] as? Int == 0)
        #expect(object["pages"] as? Int == 2)
        #expect(object["retries"] as? Int == 1)
        #expect(object["elapsed"] as? Double == 0.1)  // The one wait after the dropped link
        #expect((object["bytesSent"] as? Int ?? 0) > 0)
        #expect((object["bytesReceived"] as? Int ?? 0) > 0)
        // Then the page after the drop asked for half of what the dropped request had
        #expect(router.pulls.map(\.limit) == [4, 2])
        #expect(object["pageSize"] as? Int == 2)
    }

    @Test func statusShowsCursorAgeAndSizes() async throws {
        // Given a replica synced a while ago, on a link that needed smaller pages
        let wallClock = ManualClock(Fixtures.epoch)
        let replica = try makeEmptyReplica(wallClock: wallClock)
        try replica.apply(Fixtures.page([], cursor: Fixtures.cursor(1)))
        try replica.recordPullFinished()
        try replica.recordSyncFinished()
        try replica.saveSyncSizes(batch: 25, page: 120)
        try replica.add(.story, values: Fixtures.story())
        wallClock.now = Fixtures.epoch + 12 * 60_000

        // When its status is read
        let status = try replica.status()

        // Then it tells the unsent changes, the last sync, the cursor's age and the sizes
        #expect(status.unsentChanges == 1)
        #expect(status.lastPull == Fixtures.epoch)
        #expect(status.cursorAgeSeconds == 720)
        let lines = StatusCommand.lines(status)
        #expect(lines.contains("1 change is waiting to be sent: run 'haven sync'."), "\(lines)")
        #expect(lines.contains("Last synced 2024-11-14T22:13:20Z (12 min ago)."))
        #expect(lines.contains("The link last allowed 25 changes per push and 120 records per page."))
        #expect(lines.contains { $0.hasSuffix("with a token not checked yet (the next sync checks it).") })
    }

    @Test func parsesSyncWatchAndRetryOptions() throws {
        let command = try HavenCommand.parseAsRoot(["sync", "--watch", "--retry-for", "60", "--timeout", "10"])

        let sync = try #require(command as? SyncCommand)
        #expect(sync.watch)
        #expect(sync.options.retryFor == 60)
        #expect(sync.options.timeout == 10)
    }

    @Test(arguments: [
        (["sync", "--retry-for=-1"], "--retry-for must be 0 or more seconds"),
        (["pull", "--timeout", "0"], "--timeout must be from 1 to 3600 seconds"),
    ])
    func badRetryOptionsAreRefusedByName(arguments: [String], message: String) {
        let error = #expect(throws: (any Error).self) { try HavenCommand.parseAsRoot(arguments) }
        let text = error.map { HavenCommand.message(for: $0) } ?? ""
        #expect(text.hasPrefix(message), "\(text)")
    }
}

/// Text written by a progress line, piece by piece.
private final class Written: Sendable {
    private let written = Mutex<[String]>([])
    var parts: [String] { written.withLock { $0 } }
    var text: String { parts.joined() }
    @Sendable func add(_ text: String) { written.withLock { $0.append(text) } }
}
