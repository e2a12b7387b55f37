import Foundation
import HavenCore
import Testing
import Synchronization
import TestSupport

@testable import HavenClient

/// The asynchronous API an app embeds: records that follow the replica, and a sync as a
/// sequence of progress. The real server in-process.
@Suite(.temporaryDirectory, .timeLimit(.minutes(1)))
struct EmbeddingAPITests {
    private static let shelter = Fixtures.storyDelta(
        RecordIDs.first, Fixtures.story("Shelter").merging(["status": "published"]) { $1 },
        at: Fixtures.stamp(Fixtures.epoch - 60_000))

    @Test func observedRecordsFollowASyncAndAnEdit() async throws {
        // Given an empty replica whose stories are observed
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        var stories = replica.observeRecords(.story).makeAsyncIterator()
        #expect(try await stories.next() == [])

        // When a sync brings a story, then a story is written here
        try await server.run { client in
            try await server.seed([Self.shelter], through: client)
            _ = try await makeEngine(replica, RouterTransport(client)).sync()
        }
        let synced = try #require(try await stories.next())
        let id = try replica.add(.story, values: Fixtures.story("Written here"))
        let edited = try #require(try await stories.next())

        // Then each was seen as it landed, with nothing else in between
        #expect(synced.map(\.id) == [RecordIDs.first])
        #expect(Set(edited.map(\.id)) == [RecordIDs.first, id])
        var resources = replica.observeRecords(.resource).makeAsyncIterator()
        #expect(try await resources.next() == [])
    }

    @Test func theObservedStatusCountsUnsentChangesUntilASyncSendsThem() async throws {
        // Given an editor's replica whose status is observed
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.editor))
        var statuses = replica.observeStatus().makeAsyncIterator()
        #expect(try await statuses.next()?.unsentChanges == 0)

        // When a story is written here, then sent
        _ = try replica.add(.story, values: Fixtures.story("Written here"))
        let written = try #require(try await statuses.next())
        try await server.run { client in _ = try await makeEngine(replica, RouterTransport(client)).sync() }
        var sent = try #require(try await statuses.next())
        while sent.lastSync == nil { sent = try #require(try await statuses.next()) }

        // Then the status counted it unsent, then sent, with the sync's time
        #expect(written.unsentChanges == 1 && written.stories == 1)
        #expect(sent.unsentChanges == 0 && sent.stories == 1)
    }

    @Test func aSyncAsASequenceGivesEachProgressThenTheSummary() async throws {
        // Given a server with a story, and an engine whose own progress closure counts
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: server.token(.reader))
        let counted = Counter()
        let updates = try await server.run { client in
            try await server.seed([Self.shelter], through: client)
            let engine = try makeEngine(replica, RouterTransport(client), progress: { _ in counted.add() })

            // When its updates are read to the end
            var updates: [SyncUpdate] = []
            for try await update in engine.updates() { updates.append(update) }
            return updates
        }

        // Then progress came first, each also to the closure, and the summary last
        let progress = updates.dropLast().compactMap { if case .progress(let progress) = $0 { progress } else { nil } }
        #expect(progress.count == updates.count - 1 && !progress.isEmpty)
        #expect(counted.value == progress.count)
        guard case .finished(let summary) = try #require(updates.last) else {
            Issue.record("the last update is not the summary")
            return
        }
        #expect(summary.pulledRecords == 1)
        #expect(progress.last?.summary.pulledRecords == 1)
        #expect(try replica.record(RecordIDs.first).values["title"] == "Shelter")
    }

    @Test func aSyncThatFailsEndsTheSequenceWithItsError() async throws {
        let server = try await InProcessServer.make()
        let replica = try makeEmptyReplica(token: "not-a-token")
        try await server.run { client in
            let engine = try makeEngine(replica, RouterTransport(client))
            await #expect(throws: ServerError.self) {
                for try await _ in engine.updates() {}
            }
        }
    }
}

/// A count shared with a `@Sendable` closure.
private final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}
