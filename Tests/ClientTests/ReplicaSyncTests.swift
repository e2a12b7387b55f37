import Foundation
import HavenCore
import Testing

@testable import HavenClient

/// The replica's side of sync: answers to pushes, pulled pages, the cursor and the clock.
@Suite(.temporaryDirectory)
struct ReplicaSyncTests {
    @Test func acknowledgeRemovesSentChangesAndMarksRejectedOnes() throws {
        // Given three unsent changes
        let replica = try makeEmptyReplica()
        let ids = try (1...3).map { try replica.add(.story, values: Fixtures.story("Story \($0)")) }
        let changes = try replica.pendingChanges(limit: 10)

        // When the server applies the first, already has the second and refuses the third
        try replica.acknowledge(
            PushResponse(
                results: [
                    PushResult(id: changes[0].id, status: .applied),
                    PushResult(id: changes[1].id, status: .duplicate),
                    PushResult(
                        id: changes[2].id, status: .rejected,
                        error: ErrorDetail(code: .forbidden, message: "field tokens cannot publish")),
                ],
                serverTime: Fixtures.epoch))

        // Then nothing is pending, the refused change is kept with its reason, and records stay
        #expect(try replica.pendingChanges(limit: 10).isEmpty)
        let status = try replica.status()
        #expect(status.unsentChanges == 0)
        #expect(status.rejectedChanges == 1)
        let rejected = try replica.rejectedChanges()
        #expect(rejected.count == 1)
        #expect(rejected.first?.changeID == changes[2].id)
        #expect(rejected.first?.recordID == ids[2])
        #expect(rejected.first?.reason == "field tokens cannot publish (forbidden)")
        #expect(try replica.records(.story).count == 3)
    }

    @Test func acknowledgeKeepsChangesItDoesNotMention() throws {
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story("One"))
        try replica.add(.story, values: Fixtures.story("Two"))
        let changes = try replica.pendingChanges(limit: 10)

        try replica.acknowledge(
            PushResponse(results: [PushResult(id: changes[0].id, status: .applied)], serverTime: Fixtures.epoch))

        #expect(try replica.pendingChanges(limit: 10) == [changes[1]])
    }

    @Test func applyMergesRegisterByRegister() throws {
        // Given a story pulled earlier, then edited locally (title) and not yet sent
        let wallClock = ManualWallClock(Fixtures.epoch)
        let replica = try makeEmptyReplica(wallClock: wallClock)
        let id = RecordIDs.first
        try replica.apply(
            Fixtures.page(
                [
                    Fixtures.storyDelta(
                        id, Fixtures.story("Old title", body: "Old body."), at: Fixtures.stamp(Fixtures.epoch - 10_000))
                ],
                cursor: Fixtures.cursor(1)))
        try replica.edit(id, values: ["title": "Local title"])

        // When a page brings an older title and a newer body from another replica
        try replica.apply(
            Fixtures.page(
                [
                    Fixtures.storyDelta(id, ["title": "Remote title"], at: Fixtures.stamp(Fixtures.epoch - 5_000)),
                    Fixtures.storyDelta(
                        id, ["body": "Remote body.", "region": "Yanbian"], at: Fixtures.stamp(Fixtures.epoch - 5_000)),
                ],
                cursor: Fixtures.cursor(2)))

        // Then the local title stays, the newer body and the new field arrive, the edit stays unsent
        let record = try replica.record(id)
        #expect(record.values["title"] == "Local title")
        #expect(record.values["body"] == "Remote body.")
        #expect(record.values["region"] == "Yanbian")
        #expect(record.values["language"] == "en")
        #expect(try replica.pendingChanges(limit: 10).map { $0.record.values } == [["title": "Local title"]])
        #expect(try replica.settings().cursor == Fixtures.cursor(2))
    }

    @Test func applyWithANewerDeleteHidesTheRecord() throws {
        let replica = try makeEmptyReplica()
        let id = RecordIDs.first
        try replica.apply(
            Fixtures.page(
                [Fixtures.storyDelta(id, Fixtures.story(), at: Fixtures.stamp(Fixtures.epoch - 9_000))],
                cursor: Fixtures.cursor(1)))

        try replica.apply(
            Fixtures.page(
                [Fixtures.storyDelta(id, [:], at: Fixtures.stamp(Fixtures.epoch - 1_000), deleted: true)],
                cursor: Fixtures.cursor(2)))

        // The tombstone keeps nothing of the content (a restore brings it back whole)
        #expect(try replica.record(id).isDeleted)
        #expect(try replica.record(id).fields.isEmpty)
        #expect(try replica.records().isEmpty)
    }

    @Test func applyDropsRemovedRecordsAndStoresConflicts() throws {
        // Given two pulled stories
        let replica = try makeEmptyReplica()
        let stamp = Fixtures.stamp(Fixtures.epoch - 10_000)
        try replica.apply(
            Fixtures.page(
                [
                    Fixtures.storyDelta(RecordIDs.first, Fixtures.story("One"), at: stamp),
                    Fixtures.storyDelta(RecordIDs.second, Fixtures.story("Two"), at: stamp),
                ],
                cursor: Fixtures.cursor(2)))
        let replicaID = try replica.settings().replicaID
        let conflict = Conflict(
            recordID: RecordIDs.second, kind: .story, field: "title", value: "My title",
            stamp: Timestamp(physical: Fixtures.epoch - 8_000, counter: 0, replica: replicaID),
            winner: Fixtures.stamp(Fixtures.epoch - 7_000), winnerAuthor: "editor-1", reason: .overwritten,
            recipient: "field-1")

        // When a page removes the first and reports a conflict on the second
        try replica.apply(
            Fixtures.page([], removed: [RecordIDs.first], conflicts: [conflict], cursor: Fixtures.cursor(5)))

        // Then the first is gone entirely, the conflict is listed and counted, the cursor stored
        #expect(try replica.records(includeDeleted: true).map(\.id) == [RecordIDs.second])
        #expect(throws: ClientError.self) { try replica.record(RecordIDs.first) }
        #expect(try replica.conflicts() == [conflict])
        #expect(try replica.status().conflicts == 1)
        #expect(try replica.status().cursor == Fixtures.cursor(5).description)
        #expect(try replica.settings().cursor == Fixtures.cursor(5))
    }

    @Test func removedRecordWithUnsentOrRejectedChangesIsKeptWithThem() throws {
        // Given three pulled stories: the first edited here and not yet sent, the second edited
        // and refused by the server, the third untouched
        let replica = try makeEmptyReplica()
        let stamp = Fixtures.stamp(Fixtures.epoch - 10_000)
        try replica.apply(
            Fixtures.page(
                [
                    Fixtures.storyDelta(RecordIDs.first, Fixtures.story("One"), at: stamp),
                    Fixtures.storyDelta(RecordIDs.second, Fixtures.story("Two"), at: stamp),
                    Fixtures.storyDelta(RecordIDs.third, Fixtures.story("Three"), at: stamp),
                ],
                cursor: Fixtures.cursor(3)))
        try replica.edit(RecordIDs.first, values: ["title": "My unsent title"])
        try replica.edit(RecordIDs.second, values: ["title": "My refused title"])
        let refused = try #require(try replica.pendingChanges(limit: 10).last)
        try replica.acknowledge(
            PushResponse(
                results: [
                    PushResult(
                        id: refused.id, status: .rejected,
                        error: ErrorDetail(code: .forbidden, message: "field tokens cannot edit this story"))
                ],
                serverTime: Fixtures.epoch))

        // When a page says all three are no longer visible to this token
        let removed = [RecordIDs.first, RecordIDs.second, RecordIDs.third]
        let applied = try replica.apply(Fixtures.page([], removed: removed, cursor: Fixtures.cursor(5)))

        // Then the two with changes still waiting are kept, edits and changes included, and said so
        #expect(applied.kept == [RecordIDs.first, RecordIDs.second])
        #expect(applied.removed == 1)
        #expect(try replica.record(RecordIDs.first).values["title"] == "My unsent title")
        #expect(try replica.record(RecordIDs.second).values["title"] == "My refused title")
        #expect(try replica.pendingChanges(limit: 10).map(\.record.id) == [RecordIDs.first])
        #expect(try replica.rejectedChanges().map(\.recordID) == [RecordIDs.second])
        // And the one without is gone, and the cursor moved on
        #expect(throws: ClientError.self) { try replica.record(RecordIDs.third) }
        #expect(try replica.settings().cursor == Fixtures.cursor(5))
    }

    @Test func applySkipsADeltaOfTheWrongKind() throws {
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story())
        let resource = RecordState(
            id: id, kind: .resource, fields: ["name": Register("Line", stamp: Fixtures.stamp(Fixtures.epoch + 1_000))])

        try replica.apply(Fixtures.page([resource], cursor: Fixtures.cursor(1)))

        #expect(try replica.record(id).kind == .story)
        #expect(try replica.record(id).values == Fixtures.story())
        #expect(try replica.settings().cursor == Fixtures.cursor(1))
    }

    @Test func localEditAfterApplyOrdersAfterEveryPulledStamp() throws {
        // Given a replica whose wall clock is behind the stamps it will pull
        let wallClock = ManualWallClock(Fixtures.epoch)
        let replica = try makeEmptyReplica(wallClock: wallClock)
        let pulled = Fixtures.stamp(Fixtures.epoch + 5 * 60_000, 7)  // five minutes ahead, within drift
        try replica.apply(
            Fixtures.page(
                [Fixtures.storyDelta(RecordIDs.first, Fixtures.story(), at: pulled)], cursor: Fixtures.cursor(1)))

        // When the person edits the pulled story before wall time catches up
        try replica.edit(RecordIDs.first, values: ["title": "Corrected"])

        // Then the edit's stamp is larger than the pulled one, so it wins everywhere
        let stamp = try #require(try replica.record(RecordIDs.first).fields["title"]?.stamp)
        #expect(stamp > pulled)
        #expect(stamp.replica == (try replica.settings().replicaID))
        #expect(try replica.record(RecordIDs.first).values["title"] == "Corrected")
        #expect(try replica.pendingChanges(limit: 10).first?.base == Fixtures.cursor(1))
    }

    @Test func firstPullOnASlowDeviceStillOrdersLaterEditsAfterPulledStamps() throws {
        // Given a device whose clock is an hour slow and that has never talked to the server
        let replica = try makeEmptyReplica(wallClock: ManualWallClock(Fixtures.epoch - 3_600_000))
        let pulled = Fixtures.stamp(Fixtures.epoch + 1_000, 3)  // a second ahead of the server's clock

        // When its first pull brings a story stamped at the server's time, and the person edits it
        try replica.apply(
            Fixtures.page(
                [Fixtures.storyDelta(RecordIDs.first, Fixtures.story(), at: pulled)], cursor: Fixtures.cursor(1)))
        try replica.edit(RecordIDs.first, values: ["title": "Corrected"])

        // Then the edit still orders after what was pulled
        let stamp = try #require(try replica.record(RecordIDs.first).fields["title"]?.stamp)
        #expect(stamp > pulled)
        #expect(try replica.record(RecordIDs.first).values["title"] == "Corrected")
    }

    @Test func serverTimeFromAnswersCorrectsLaterStamps() throws {
        // Given a device whose clock is an hour slow
        let replica = try makeEmptyReplica(wallClock: ManualWallClock(Fixtures.epoch - 3_600_000))

        // When a pull answer carries the server's time, then a local edit is made
        try replica.apply(Fixtures.page([], cursor: Fixtures.cursor(1)))
        let id = try replica.add(.story, values: Fixtures.story())

        // Then the edit is stamped with the server's time, not the slow clock's
        #expect(try replica.settings().serverOffset == 3_600_000)
        #expect(try replica.record(id).fields["title"]?.stamp.physical == Fixtures.epoch)
    }
}
