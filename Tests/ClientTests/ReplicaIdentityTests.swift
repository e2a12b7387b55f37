import Foundation
import HavenCore
import Testing

@testable import HavenClient

/// A replica copied to another device, or restored from a backup, must not send different
/// changes under the ids its other copy uses; and deleted content does not stay on the device.
@Suite(.temporaryDirectory)
struct ReplicaIdentityTests {
    @Test func aCopiedReplicaTakesANewIdentityAndRenamesItsUnsentChanges() throws {
        // Given a replica with an unsent story, copied file by file as a backup tool would
        let original = try makeEmptyReplica()
        try original.add(.story, values: Fixtures.story("Unsent"))
        let before = try original.settings().replicaID
        let sent = try original.pendingChanges(limit: 10)
        let copyPath = TemporaryDirectory.path("copy.sqlite")
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: original.path + suffix) {
            try FileManager.default.copyItem(atPath: original.path + suffix, toPath: copyPath + suffix)
        }

        // When the copy is opened
        let copy = try Replica.open(at: copyPath)

        // Then it writes under a new replica id: its unsent change has a new id and new stamps
        let after = try copy.settings().replicaID
        #expect(after != before)
        let renamed = try copy.pendingChanges(limit: 10)
        #expect(renamed.count == 1)
        #expect(renamed[0].id.hasPrefix("\(after)-"))
        #expect(renamed[0].record.fields.values.allSatisfy { $0.stamp.replica == after })
        #expect(renamed[0].record.values == sent[0].record.values)
        // And the record holds the new stamps, so the change still wins locally
        #expect(try copy.record(renamed[0].record.id).fields["title"]?.stamp.replica == after)
        // While the original, opened again, keeps its id
        #expect(try Replica.open(at: original.path).settings().replicaID == before)
    }

    @Test func aChangeIDConflictGivesTheReplicaANewIdentity() throws {
        // Given two unsent changes, the first refused because another copy used its id
        let replica = try makeEmptyReplica()
        try replica.add(.story, values: Fixtures.story("One"))
        try replica.add(.story, values: Fixtures.story("Two"))
        let changes = try replica.pendingChanges(limit: 10)
        try replica.acknowledge(
            PushResponse(
                results: [
                    PushResult(
                        id: changes[0].id, status: .rejected,
                        error: ErrorDetail(code: .changeIDConflict, message: "copied")),
                    PushResult(id: changes[1].id, status: .applied),
                ], serverTime: Fixtures.epoch))

        // When it takes a new identity
        let renamed = try replica.takeNewIdentity()

        // Then the refused change is pending again under a new id, and the applied one is gone
        #expect(renamed == 1)
        let pending = try replica.pendingChanges(limit: 10)
        #expect(pending.count == 1)
        #expect(pending[0].id != changes[0].id)
        #expect(pending[0].record.id == changes[0].record.id)
        #expect(try replica.status().rejectedChanges == 0)
        // And a new edit continues the counter under the new id
        try replica.add(.story, values: Fixtures.story("Three"))
        let ids = try replica.pendingChanges(limit: 10).map(\.id)
        #expect(Set(ids).count == 2)
    }

    @Test func aPulledDeleteDropsTheRecordsContent() throws {
        // Given a story pulled whole
        let replica = try makeEmptyReplica()
        let id = RecordIDs.first
        try replica.apply(
            Fixtures.page(
                [Fixtures.storyDelta(id, Fixtures.story("Names a helper", body: "secretword"), at: Fixtures.stamp(1))],
                cursor: Fixtures.cursor(1)))

        // When the server sends its delete flag alone
        try replica.apply(
            Fixtures.page(
                [RecordState(id: id, kind: .story, deleted: Register(.bool(true), stamp: Fixtures.stamp(2)))],
                cursor: Fixtures.cursor(2)))

        // Then the replica keeps the tombstone and nothing of the content, in the file or the index
        let stored = try #require(try replica.records(includeDeleted: true).first { $0.id == id })
        #expect(stored.isDeleted)
        #expect(stored.fields.isEmpty)
        #expect(try replica.search(SearchQuery("secretword")).isEmpty)
    }

    @Test func aLocalDeleteDropsTheRecordsContentButKeepsTheChange() throws {
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story("Mine"))
        try replica.delete(id)
        let stored = try #require(try replica.records(includeDeleted: true).first { $0.id == id })
        #expect(stored.fields.isEmpty)
        // The unsent creation still carries what was typed, for the server
        #expect(try replica.pendingChanges(limit: 10).first?.record.fields["title"]?.value == "Mine")
    }
}
