import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient
@testable import HavenCommands

/// Changes the server refuses stay in the outbox, are shown, and go out again when their record
/// is edited or `haven retry` is run; `clock_ahead` ones are stamped again and re-sent at once.
/// Against the real server in-process, whose rules refuse a field token's publishing.
@Suite(.temporaryDirectory)
struct RejectedChangeTests {
    private static let cannotPublish = "status: field staff cannot publish"

    private func published(_ title: String = "Crossing the Tumen") -> [String: JSONValue] {
        Fixtures.story(title).merging(["status": "published"]) { $1 }
    }

    @Test func rejectedChangeIsKeptWithTheServersCodeAndShown() async throws {
        // Given a story published with a field token
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.field))
        let id = try replica.add(.story, values: published())

        // When it syncs
        let summary = try await server.run { client in try await makeEngine(replica, RouterTransport(client)).sync() }

        // Then the change is kept, marked with the server's code and message, and the record stays
        #expect(summary.rejected == 1)
        let rejected = try replica.rejectedChanges()
        #expect(rejected.map(\.recordID) == [id])
        #expect(rejected.first?.code == .forbidden)
        #expect(rejected.first?.message == Self.cannotPublish)
        #expect(rejected.first?.fields == ["body", "language", "status", "title"])
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
        #expect(try replica.record(id).values["status"] == "published")
        // Then status and conflicts show it, with what to do
        let status = try replica.status()
        #expect(status.rejectedChanges == 1)
        let lines = StatusCommand.lines(status)
        #expect(lines.contains { $0.hasPrefix("1 change the server refused is kept here") })
        let section = [
            "rejected (kept; edit the record to fix and re-send it, or 'haven retry ID' to send it as it is):",
            "  story \(id) [body, language, status, title]: \(Self.cannotPublish) (forbidden)",
        ]
        #expect(Array(lines.suffix(2)) == section)
        #expect(rejectedLines(try replica.rejectedChanges()) == section)
    }

    @Test func editingARejectedRecordFoldsItIntoANewChangeStampedNow() async throws {
        // Given a rejected story
        let server = try await InProcessServer.make()
        let wallClock = ManualClock(Fixtures.epoch)
        let replica = try makeEmptyReplica(token: server.token(.field), wallClock: wallClock)
        let id = try replica.add(.story, values: published())
        try await server.run { client in
            let router = RouterTransport(client)
            _ = try await makeEngine(replica, router).sync()
            let rejected = try #require(try replica.rejectedChanges().first)

            // When the person fixes it a minute later
            wallClock.now = Fixtures.epoch + 60_000
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
            let summary = try await makeEngine(replica, router).sync()
            #expect(summary.applied == 1)
            #expect(router.applied == [change.id])
            #expect(try replica.status().rejectedChanges == 0)
        }
    }

    @Test func registersReplacedSinceTheRejectionAreNotSentAgain() async throws {
        // Given a rejected edit of a title and a status
        let server = try await InProcessServer.make()
        let wallClock = ManualClock(Fixtures.epoch)
        let replica = try makeEmptyReplica(token: server.token(.field), wallClock: wallClock)
        let id = try replica.add(.story, values: Fixtures.story("Draft title"), id: RecordIDs.first)
        try await server.run { client in
            let router = RouterTransport(client)
            _ = try await makeEngine(replica, router).sync()
            try replica.edit(id, values: ["title": "My title", "status": "published"])
            _ = try await makeEngine(replica, router).sync()
        }
        #expect(try replica.rejectedChanges().count == 1)

        // When a later title arrives from another device, and the person then fixes the status
        let later = Fixtures.stamp(Fixtures.epoch + 30_000)
        try replica.apply(
            Fixtures.page([Fixtures.storyDelta(id, ["title": "Their title"], at: later)], cursor: Fixtures.cursor(2)))
        wallClock.now = Fixtures.epoch + 60_000
        try replica.edit(id, values: ["status": "review"])

        // Then the new change holds the fix, not the title that lost
        let pending = try replica.pendingChanges(limit: 10)
        #expect(pending.map(\.record.values) == [["status": "review"]])
        #expect(try replica.record(id).values["title"] == "Their title")
    }

    @Test func retryQueuesRejectedChangesAsTheyAre() async throws {
        // Given a field worker's story that an editor publishes, so that the worker's next edit
        // of it is refused
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.field))
        let id = try replica.add(.story, values: Fixtures.story())
        try await server.run { client in
            let router = RouterTransport(client)
            _ = try await makeEngine(replica, router).sync()
            try await server.seed(
                [Fixtures.storyDelta(id, ["status": "published"], at: Fixtures.stamp(Fixtures.epoch + 1))],
                through: client)
            _ = try await makeEngine(replica, router).sync()
            try replica.edit(id, values: ["title": "Retitled"])
            _ = try await makeEngine(replica, router).sync()
            let rejected = try #require(try replica.rejectedChanges().first)
            #expect(rejected.message == "record \(id): published stories can be edited by editors only")

            // When an unknown id is retried, it says so and changes nothing
            let error = #expect(throws: ClientError.self) { try replica.retryRejected("not-an-id") }
            #expect(error?.message == "no rejected change for not-an-id: see 'haven status' for the rejected ones")
            #expect(try replica.rejectedChanges().count == 1)

            // When the editor unpublishes the story, and the record's rejected changes are
            // retried by an id prefix
            try await server.seed(
                [Fixtures.storyDelta(id, ["status": "draft"], at: Fixtures.stamp(Fixtures.epoch + 2))],
                through: client)
            #expect(try replica.retryRejected(String(id.prefix(8))) == 1)

            // Then the same change is pending again, and the next sync delivers it
            #expect(try replica.pendingChanges(limit: 10).map(\.id) == [rejected.changeID])
            let summary = try await makeEngine(replica, router).sync()
            #expect(summary.applied == 1)
            #expect(router.applied.last == rejected.changeID)
            #expect(try replica.record(id).values["title"] == "Retitled")
        }
    }

    @Test func clockAheadChangesAreStampedAgainWithTheServersTimeAndApplied() async throws {
        // Given a device whose clock runs an hour fast, with a story written before any sync
        let hour: UInt64 = 3_600_000
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.field), wallClock: ManualClock(Fixtures.epoch + hour))
        let id = try replica.add(.story, values: Fixtures.story())
        let original = try #require(try replica.pendingChanges(limit: 1).first)
        #expect(original.record.latestStamp?.physical == Fixtures.epoch + hour)
        try await server.run { client in
            let router = RouterTransport(client)

            // When it syncs with a server whose clock reads the true time
            let summary = try await makeEngine(replica, router).sync()

            // Then the server refused it once, and took it again, same id, stamped at its own time
            #expect(summary.restamped == 1)
            #expect(summary.applied == 1)
            #expect(summary.rejected == 0)
            #expect(router.pushes.map { $0.changes.map(\.id) } == [[original.id], [original.id]])
            #expect(router.pushes.first?.answer?.results.first?.error?.code == .clockAhead)
            #expect(router.applied == [original.id])
            let applied = try #require(router.pushes.last?.changes.first)
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
    }

    @Test func clockAheadIsRetriedOnlyOnce() async throws {
        // Given a device an hour fast, and a server whose clock is set back an hour just before
        // the stamped-again change arrives, so that it is still ahead
        let hour: UInt64 = 3_600_000
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.field), wallClock: ManualClock(Fixtures.epoch + hour))
        try replica.add(.story, values: Fixtures.story())
        try await server.run { client in
            let router = RouterTransport(client)
            let link = FaultyLink(over: router) { attempt in
                if !attempt.isPull && attempt.ofItsKind == 2 { server.clock.now = Fixtures.epoch - hour }
                return nil
            }

            // When it syncs
            let summary = try await makeEngine(replica, link).sync()

            // Then it sent the change twice, not more, and keeps it rejected
            #expect(router.pushes.count == 2)
            #expect(summary.restamped == 1)
            #expect(summary.rejected == 1)
            #expect(try replica.rejectedChanges().map(\.code) == [.clockAhead])
        }
    }
}
