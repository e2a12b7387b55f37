import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient

/// What a replica does when the server has compacted past it: `forgetCursor` after
/// `410 cursor_expired`, and `acknowledge` of changes refused as `record_purged`.
@Suite(.temporaryDirectory)
struct ReplicaRedownloadTests {
    /// A replica at cursor 7 holding four stories from the server.
    private func makeSyncedReplica() throws -> Replica {
        let replica = try makeEmptyReplica()
        let stamp = Fixtures.stamp(Fixtures.epoch - 60_000)
        try replica.apply(
            Fixtures.page(
                [RecordIDs.first, RecordIDs.second, RecordIDs.third, RecordIDs.fourth].map {
                    Fixtures.storyDelta($0, Fixtures.story("Story \($0.prefix(4))"), at: stamp)
                }, cursor: Fixtures.cursor(7)))
        return replica
    }

    @Test func forgettingTheCursorDropsRecordsWithoutUnsentChanges() throws {
        // Given a replica with an unsent edit, a rejected edit and a new story, besides two
        // stories it only received
        let replica = try makeSyncedReplica()
        try replica.edit(RecordIDs.first, values: ["title": "Edited, unsent"])
        try replica.edit(RecordIDs.second, values: ["title": "Edited, rejected"])
        let new = try replica.add(.story, values: Fixtures.story("New, unsent"))
        let rejected = try #require(try replica.pendingChanges(limit: 10).first { $0.record.id == RecordIDs.second })
        try replica.acknowledge(
            PushResponse(
                results: [
                    PushResult(
                        id: rejected.id, status: .rejected, error: ErrorDetail(code: .forbidden, message: "no"))
                ], serverTime: Fixtures.epoch))

        // When the server says its cursor expired
        let dropped = try replica.forgetCursor()

        // Then the received-only stories are gone (a download brings back those that still exist)
        #expect(dropped == 2)
        #expect(try replica.settings().cursor == nil)
        #expect(
            try replica.records(.story, includeDeleted: true).map(\.id).sorted()
                == [RecordIDs.first, RecordIDs.second, new].sorted())
        // And every change not yet on the server is kept, with its record as edited
        #expect(try replica.pendingChanges(limit: 10).map(\.record.id).sorted() == [RecordIDs.first, new].sorted())
        #expect(try replica.rejectedChanges().map(\.recordID) == [RecordIDs.second])
        #expect(try replica.record(RecordIDs.first).values["title"] == "Edited, unsent")
    }

    @Test func changesToAPurgedRecordAreDroppedWithIt() throws {
        // Given two unsent edits of a story the server has purged, and one of another story
        let replica = try makeSyncedReplica()
        try replica.edit(RecordIDs.first, values: ["title": "First edit"])
        try replica.edit(RecordIDs.first, values: ["summary": "Second edit"])
        try replica.edit(RecordIDs.second, values: ["title": "Kept edit"])
        let changes = try replica.pendingChanges(limit: 10)
        try #require(changes.count == 3)

        // When the server refuses the first as purged (the second not yet sent) and applies the other
        let purged = ErrorDetail(code: .recordPurged, message: "record \(RecordIDs.first) was deleted and purged")
        let dropped = try replica.acknowledge(
            PushResponse(
                results: [
                    PushResult(id: changes[0].id, status: .rejected, error: purged),
                    PushResult(id: changes[2].id, status: .applied),
                ], serverTime: Fixtures.epoch))

        // Then both changes to the purged story go, with the story itself
        #expect(dropped == 2)
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
        #expect(try replica.rejectedChanges().isEmpty)
        #expect(throws: ClientError.self) { try replica.record(RecordIDs.first) }
        // And the other story keeps its applied edit
        #expect(try replica.record(RecordIDs.second).values["title"] == "Kept edit")
    }
}
