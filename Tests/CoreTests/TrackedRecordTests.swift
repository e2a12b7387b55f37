import Foundation
import HavenCore
import Testing

struct TrackedRecordTests {
    /// Which of two concurrent changes reaches the server first.
    enum Arrival: CaseIterable, Sendable {
        case winnerFirst, loserFirst
    }

    private func makeEmptyStory() -> TrackedRecord {
        TrackedRecord(id: storyID, kind: .story)
    }

    /// Applies `changes` in order at seq 1, 2, … and returns every conflict they produced.
    private func apply(
        _ changes: [(change: RecordState, author: String, seen: Int64)], to record: inout TrackedRecord
    ) -> [Conflict] {
        var conflicts: [Conflict] = []
        for (index, item) in changes.enumerated() {
            conflicts += record.apply(item.change, seq: Int64(index + 1), author: item.author, seen: item.seen)
        }
        return conflicts
    }

    @Test func firstWriteIsAppliedWithoutConflict() {
        var record = makeEmptyStory()

        let conflicts = record.apply(
            storyEdit(["title": "T", "body": "B"], at: stamp(10, 0, "a")), seq: 1, author: "alice", seen: 0)

        #expect(conflicts.isEmpty)
        #expect(record.state == storyEdit(["title": "T", "body": "B"], at: stamp(10, 0, "a")))
        #expect(record.fields["title"]?.seq == 1 && record.fields["title"]?.author == "alice")
        #expect(record.lastSeq == 1)
    }

    @Test(arguments: Arrival.allCases)
    func concurrentWritesToOneFieldReportTheLoserToItsAuthor(_ arrival: Arrival) {
        // Given two replicas that both edit the title without having seen each other
        let alice = (
            change: storyEdit(["title": "Alice's title"], at: stamp(100, 0, "a")), author: "alice", seen: Int64(0)
        )
        let bob = (change: storyEdit(["title": "Bob's title"], at: stamp(200, 0, "b")), author: "bob", seen: Int64(0))
        var record = makeEmptyStory()

        // When they arrive in either order
        let conflicts = apply(arrival == .winnerFirst ? [bob, alice] : [alice, bob], to: &record)

        // Then the larger stamp wins and Alice hears about her lost write
        #expect(record.state.values == ["title": "Bob's title"])
        #expect(
            conflicts == [
                Conflict(
                    recordID: storyID, kind: .story, field: "title", value: "Alice's title", stamp: stamp(100, 0, "a"),
                    winner: stamp(200, 0, "b"), winnerAuthor: "bob", reason: .overwritten, recipient: "alice")
            ])
    }

    @Test func concurrentWritesToDifferentFieldsBothSurvive() {
        var record = makeEmptyStory()

        let conflicts = apply(
            [
                (storyEdit(["title": "A"], at: stamp(100, 0, "a")), "alice", 0),
                (storyEdit(["body": "B"], at: stamp(200, 0, "b")), "bob", 0),
            ], to: &record)

        #expect(conflicts.isEmpty)
        #expect(record.state.values == ["title": "A", "body": "B"])
    }

    @Test(arguments: [Int64(1), 5])
    func laterEditBySomeoneWhoHadSeenTheValueIsNotAConflict(seen: Int64) {
        // Given Alice's title at seq 1
        var record = makeEmptyStory()
        _ = record.apply(
            storyEdit(["title": "Alice's title"], at: stamp(100, 0, "a")), seq: 1, author: "alice", seen: 0)

        // When Bob, who had pulled it, edits the title
        let conflicts = record.apply(
            storyEdit(["title": "Bob's title"], at: stamp(200, 0, "b")), seq: 2, author: "bob", seen: seen)

        // Then it is an ordinary edit
        #expect(conflicts.isEmpty)
        #expect(record.state.values == ["title": "Bob's title"])
        #expect(record.fields["title"]?.author == "bob")
    }

    @Test func writeStampedBeforeAValueItsAuthorHadSeenStillReportsItsLoss() {
        // Given Alice's title at seq 1, and Bob whose clock lags behind hers
        var record = makeEmptyStory()
        _ = record.apply(
            storyEdit(["title": "Alice's title"], at: stamp(100, 0, "a")), seq: 1, author: "alice", seen: 0)

        // When Bob, having seen it, writes with a smaller stamp
        let conflicts = record.apply(
            storyEdit(["title": "Bob's title"], at: stamp(50, 0, "b")), seq: 2, author: "bob", seen: 1)

        // Then his write loses and he is told
        #expect(record.state.values == ["title": "Alice's title"])
        #expect(conflicts.map(\.recipient) == ["bob"])
        #expect(conflicts.first?.value == "Bob's title")
    }

    @Test(arguments: Arrival.allCases, [UInt64(150), 300])
    func deleteVersusConcurrentEditReportsTheEditAsDeleted(_ arrival: Arrival, editAt physical: UInt64) {
        // Given Alice edits the summary (before or after the delete's stamp) while Bob deletes, neither seeing the other
        let base = storyEdit(["title": "T", "body": "B", "language": "en"], at: stamp(100, 0, "c"))
        let edit = (
            change: storyEdit(["summary": "Alice's summary"], at: stamp(physical, 0, "a")), author: "alice",
            seen: Int64(1)
        )
        let delete = (change: storyFlag(deleted: true, at: stamp(200, 0, "b")), author: "bob", seen: Int64(1))
        var record = makeEmptyStory()
        _ = record.apply(base, seq: 1, author: "carol", seen: 0)

        // When they arrive in either order (at seq 2 and 3)
        let order = arrival == .winnerFirst ? [delete, edit] : [edit, delete]
        var conflicts: [Conflict] = []
        for (offset, item) in order.enumerated() {
            conflicts += record.apply(item.change, seq: Int64(offset + 2), author: item.author, seen: item.seen)
        }

        // Then the record stays deleted and Alice is told her edit was deleted
        #expect(record.isDeleted)
        #expect(record.state.values["summary"] == "Alice's summary")
        #expect(
            conflicts == [
                Conflict(
                    recordID: storyID, kind: .story, field: "summary", value: "Alice's summary",
                    stamp: stamp(physical, 0, "a"), winner: stamp(200, 0, "b"), winnerAuthor: "bob", reason: .deleted,
                    recipient: "alice")
            ])
    }

    @Test func deleteBySomeoneWhoHadSeenTheEditIsNotAConflict() {
        var record = makeEmptyStory()
        _ = record.apply(storyEdit(["title": "T"], at: stamp(100, 0, "a")), seq: 1, author: "alice", seen: 0)

        let conflicts = record.apply(storyFlag(deleted: true, at: stamp(200, 0, "b")), seq: 2, author: "bob", seen: 1)

        #expect(conflicts.isEmpty)
        #expect(record.isDeleted)
    }

    @Test func editBySomeoneWhoHadSeenTheRestoreIsNotAConflict() {
        // Given a record deleted at seq 1 and restored at seq 2
        var record = makeEmptyStory()
        _ = record.apply(storyFlag(deleted: true, at: stamp(100, 0, "a")), seq: 1, author: "alice", seen: 0)
        let restoreConflicts = record.apply(
            storyFlag(deleted: false, at: stamp(200, 0, "b")), seq: 2, author: "bob", seen: 1)

        // When Carol, who has seen both, edits
        let conflicts = record.apply(
            storyEdit(["title": "back"], at: stamp(300, 0, "c")), seq: 3, author: "carol", seen: 2)

        // Then
        #expect(restoreConflicts.isEmpty && conflicts.isEmpty)
        #expect(!record.isDeleted)
        #expect(record.state.values == ["title": "back"])
    }

    @Test func editsBySameReplicaNeverConflictWithThemselves() {
        // Given a replica that edits twice, then deletes and edits again, all offline (seen 0)
        var record = makeEmptyStory()
        let conflicts = apply(
            [
                (storyEdit(["title": "one"], at: stamp(100, 0, "a")), "alice", 0),
                (storyEdit(["title": "two"], at: stamp(200, 0, "a")), "alice", 0),
                (storyFlag(deleted: true, at: stamp(300, 0, "a")), "alice", 0),
                (storyEdit(["title": "three"], at: stamp(400, 0, "a")), "alice", 0),
                // a stale copy of its own first write, sent again
                (storyEdit(["title": "one"], at: stamp(100, 0, "a")), "alice", 0),
            ], to: &record)

        #expect(conflicts.isEmpty)
        #expect(record.state.values == ["title": "three"])
        #expect(record.isDeleted)
    }

    @Test func aLosingChangeLeavesStateAndLastSeqAlone() {
        var record = makeEmptyStory()
        _ = record.apply(storyEdit(["title": "new"], at: stamp(200, 0, "b")), seq: 1, author: "bob", seen: 0)
        let before = record

        _ = record.apply(storyEdit(["title": "old"], at: stamp(100, 0, "a")), seq: 2, author: "alice", seen: 0)

        #expect(record == before)
        #expect(record.lastSeq == 1)
    }

    @Test func deltaReturnsOnlyRegistersChangedAfterTheCursor() {
        // Given registers set at seq 1, 2 and 3 (the title twice)
        var record = makeEmptyStory()
        _ = apply(
            [
                (storyEdit(["title": "T1", "body": "B"], at: stamp(100, 0, "a")), "alice", 0),
                (storyEdit(["title": "T2"], at: stamp(200, 0, "a")), "alice", 1),
                (storyFlag(deleted: true, at: stamp(300, 0, "b")), "bob", 2),
            ], to: &record)

        // Then
        #expect(record.lastSeq == 3)
        #expect(record.delta(since: 0) == record.state)
        #expect(
            record.delta(since: 1)
                == RecordState(
                    id: storyID, kind: .story, fields: ["title": Register("T2", stamp: stamp(200, 0, "a"))],
                    deleted: Register(true, stamp: stamp(300, 0, "b"))))
        #expect(record.delta(since: 2) == storyFlag(deleted: true, at: stamp(300, 0, "b")))
        #expect(record.delta(since: 3) == RecordState(id: storyID, kind: .story))
    }

    @Test func trackedRecordRoundTripsThroughJSON() throws {
        var record = makeEmptyStory()
        _ = record.apply(
            storyEdit(["title": "T", "tags": ["a", "b"]], at: stamp(100, 0, "a")), seq: 7, author: "alice", seen: 0)

        let decoded = try JSONDecoder().decode(TrackedRecord.self, from: JSONEncoder().encode(record))

        #expect(decoded == record)
    }
}
