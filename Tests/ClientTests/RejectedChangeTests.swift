import Foundation
import HavenCore
import Synchronization
import Testing

@testable import HavenClient

/// Changes the server refuses stay in the outbox, are shown, and go out again when their record
/// is edited or `haven retry` is run; `clock_ahead` ones are stamped again and re-sent at once.
@Suite(.temporaryDirectory)
struct RejectedChangeTests {
    private static let cannotPublish = ErrorDetail(code: .forbidden, message: "field tokens cannot publish")

    /// A server that refuses published stories, as it does a field token's.
    private static func refusingPublished() -> FakeServer {
        FakeServer(
            pages: pages, reject: { $0.record.fields["status"]?.value == "published" ? cannotPublish : nil })
    }

    /// A first page, and the empty answer for a replica already up to date.
    private static let pages: [SyncCursor?: PullResponse] = [
        nil: Fixtures.page([], cursor: Fixtures.cursor(1)),
        Fixtures.cursor(1): Fixtures.page([], cursor: Fixtures.cursor(1)),
    ]

    private func makeEngine(_ replica: Replica, _ server: FakeServer) -> SyncEngine {
        SyncEngine(
            replica: replica, api: ServerAPI(server: Fixtures.server, token: Fixtures.token, transport: server),
            clock: TestClock().syncClock)
    }

    private func published(_ title: String = "Crossing the Tumen") -> [String: JSONValue] {
        Fixtures.story(title).merging(["status": "published"]) { $1 }
    }

    @Test func rejectedChangeIsKeptWithTheServersCodeAndShown() async throws {
        // Given a story a field token may not publish
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: published())

        // When it syncs
        let summary = try await makeEngine(replica, Self.refusingPublished()).sync()

        // Then the change is kept, marked with the server's code and message, and the record stays
        #expect(summary.rejected == 1)
        let rejected = try replica.rejectedChanges()
        #expect(rejected.map(\.recordID) == [id])
        #expect(rejected.first?.code == .forbidden)
        #expect(rejected.first?.message == "field tokens cannot publish")
        #expect(rejected.first?.fields == ["body", "language", "status", "title"])
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
        #expect(try replica.record(id).values["status"] == "published")
        // Then status and conflicts show it, with what to do
        let status = try replica.status()
        #expect(status.rejectedChanges == 1)
        let lines = StatusCommand.lines(status)
        #expect(lines.contains("rejected    1 change"))
        let section = [
            "rejected (kept; edit the record to fix and re-send it, or 'haven retry ID' to send it as it is):",
            "  story \(id) [body, language, status, title]: field tokens cannot publish (forbidden)",
        ]
        #expect(Array(lines.suffix(2)) == section)
        #expect(rejectedLines(try replica.rejectedChanges()) == section)
    }

    @Test func editingARejectedRecordFoldsItIntoANewChangeStampedNow() async throws {
        // Given a rejected story
        let wallClock = ManualWallClock()
        let replica = try makeEmptyReplica(wallClock: wallClock)
        let id = try replica.add(.story, values: published())
        let server = Self.refusingPublished()
        _ = try await makeEngine(replica, server).sync()
        let rejected = try #require(try replica.rejectedChanges().first)

        // When the person fixes it a minute later
        wallClock.set(Fixtures.epoch + 60_000)
        try replica.edit(id, values: ["status": "draft"])

        // Then one new pending change carries the fix and everything the rejected one wrote,
        // all stamped now, and nothing is left rejected
        #expect(try replica.rejectedChanges().isEmpty)
        let pending = try replica.pendingChanges(limit: 10)
        #expect(pending.count == 1)
        let change = try #require(pending.first)
        #expect(change.id != rejected.changeID)
        #expect(change.record.values == Fixtures.story().merging(["status": "draft"]) { $1 })
        #expect(Set(change.record.fields.values.map(\.stamp.physical)) == [Fixtures.epoch + 60_000])
        #expect(try replica.record(id).fields == change.record.fields)

        // When it syncs, the server takes it
        let summary = try await makeEngine(replica, server).sync()
        #expect(summary.applied == 1)
        #expect(await server.applied.map(\.id) == [change.id])
        #expect(try replica.status().rejectedChanges == 0)
    }

    @Test func registersReplacedSinceTheRejectionAreNotSentAgain() async throws {
        // Given a rejected edit of a title and a status
        let wallClock = ManualWallClock()
        let replica = try makeEmptyReplica(wallClock: wallClock)
        let id = try replica.add(.story, values: Fixtures.story("Draft title"), id: RecordIDs.first)
        let server = Self.refusingPublished()
        _ = try await makeEngine(replica, server).sync()
        try replica.edit(id, values: ["title": "My title", "status": "published"])
        _ = try await makeEngine(replica, server).sync()
        #expect(try replica.rejectedChanges().count == 1)

        // When a later title arrives from another device, and the person then fixes the status
        let later = Fixtures.stamp(Fixtures.epoch + 30_000)
        try replica.apply(
            Fixtures.page([Fixtures.storyDelta(id, ["title": "Their title"], at: later)], cursor: Fixtures.cursor(2)))
        wallClock.set(Fixtures.epoch + 60_000)
        try replica.edit(id, values: ["status": "review"])

        // Then the new change holds the fix, not the title that lost
        let pending = try replica.pendingChanges(limit: 10)
        #expect(pending.map(\.record.values) == [["status": "review"]])
        #expect(try replica.record(id).values["title"] == "Their title")
    }

    @Test func retryQueuesRejectedChangesAsTheyAre() async throws {
        // Given a story rejected once by a server that later allows it (say, a new role)
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: published())
        let refusals = Countdown(1)
        let server = FakeServer(pages: Self.pages, reject: { _ in refusals.next() ? Self.cannotPublish : nil })
        _ = try await makeEngine(replica, server).sync()
        let rejected = try #require(try replica.rejectedChanges().first)

        // When an unknown id is retried, it says so and changes nothing
        let error = #expect(throws: ClientError.self) { try replica.retryRejected("not-an-id") }
        #expect(error?.message == "no rejected change for not-an-id: see 'haven status' for the rejected ones")
        #expect(try replica.rejectedChanges().count == 1)

        // When the record's rejected changes are retried by an id prefix
        #expect(try replica.retryRejected(String(id.prefix(8))) == 1)

        // Then the same change is pending again, and the next sync delivers it
        #expect(try replica.pendingChanges(limit: 10).map(\.id) == [rejected.changeID])
        let summary = try await makeEngine(replica, server).sync()
        #expect(summary.applied == 1)
        #expect(await server.applied.map(\.id) == [rejected.changeID])
    }

    @Test func clockAheadChangesAreStampedAgainWithTheServersTimeAndApplied() async throws {
        // Given a device whose clock runs an hour fast, with a story written before any sync
        let hour: UInt64 = 3_600_000
        let wallClock = ManualWallClock(Fixtures.epoch + hour)
        let replica = try makeEmptyReplica(wallClock: wallClock)
        let id = try replica.add(.story, values: Fixtures.story())
        let original = try #require(try replica.pendingChanges(limit: 1).first)
        #expect(original.record.latestStamp?.physical == Fixtures.epoch + hour)
        let server = FakeServer(pages: Self.pages)

        // When it syncs with a server whose clock reads the true time
        let summary = try await makeEngine(replica, server).sync()

        // Then the server refused it once, and took it again, same id, stamped at its own time
        #expect(summary.restamped == 1)
        #expect(summary.applied == 1)
        #expect(summary.rejected == 0)
        #expect(await server.pushedBatches.map { $0.map(\.id) } == [[original.id], [original.id]])
        let applied = try #require(await server.applied.first)
        #expect(Set(applied.record.fields.values.map(\.stamp.physical)) == [Fixtures.epoch])
        #expect(applied.record.values == original.record.values)
        // Then the replica holds the stamps the server has, and later edits use the corrected clock
        #expect(try replica.record(id).fields == applied.record.fields)
        #expect(try replica.rejectedChanges().isEmpty)
        try replica.edit(id, values: ["title": "Later"])
        let next = try #require(try replica.pendingChanges(limit: 1).first)
        #expect(next.record.fields["title"]?.stamp.physical == Fixtures.epoch)
        #expect(try replica.settings().serverOffset == -Int64(hour))
    }

    @Test func clockAheadIsRetriedOnlyOnce() async throws {
        // Given a device an hour fast and a server that refuses its stamps whatever they are
        let wallClock = ManualWallClock(Fixtures.epoch + 3_600_000)
        let replica = try makeEmptyReplica(wallClock: wallClock)
        try replica.add(.story, values: Fixtures.story())
        let server = FakeServer(
            pages: Self.pages, reject: { _ in ErrorDetail(code: .clockAhead, message: "stamp ahead") })

        // When it syncs
        let summary = try await makeEngine(replica, server).sync()

        // Then it sent the change twice, not more, and keeps it rejected
        #expect(await server.pushedBatches.count == 2)
        #expect(summary.restamped == 1)
        #expect(summary.rejected == 1)
        #expect(try replica.rejectedChanges().map(\.code) == [.clockAhead])
    }
}

/// Says yes the first `count` times it is asked, then no.
private final class Countdown: Sendable {
    private let left: Mutex<Int>
    init(_ count: Int) { left = Mutex(count) }

    func next() -> Bool {
        left.withLock { left in
            defer { left -= 1 }
            return left > 0
        }
    }
}
