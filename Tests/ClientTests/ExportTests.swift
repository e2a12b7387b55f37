import Foundation
import HavenCore
import Testing
import TestSupport

@testable import HavenClient

/// `haven export`: every visible record as a canonical content pack.
@Suite(.temporaryDirectory)
struct ExportTests {
    /// The history both replicas receive: overwritten and cleared fields, a tombstone, an unknown field.
    private static let history: [RecordState] = {
        let s = { (offset: UInt64) in Fixtures.stamp(Fixtures.epoch - 100_000 + offset) }
        let story = RecordIDs.first, resource = RecordIDs.second, deleted = RecordIDs.third, korean = RecordIDs.fourth
        return [
            Fixtures.storyDelta(
                story, Fixtures.story("First title", body: "Body.").merging(["summary": "Short."]) { $1 }, at: s(1)),
            Fixtures.storyDelta(story, ["title": "Second title", "tags": ["routes", "china"]], at: s(2)),
            Fixtures.storyDelta(story, ["summary": .null], at: s(3)),
            RecordState(
                id: resource, kind: .resource,
                fields: [
                    "name": Register("Hana Center", stamp: s(4)), "category": Register("resettlement", stamp: s(4)),
                    "country": Register("KR", stamp: s(4)),
                    "customField": Register(.object(["a": 1, "b": [.double(1.5), true]]), stamp: s(4)),
                ]),
            Fixtures.storyDelta(deleted, Fixtures.story("Gone"), at: s(5)),
            Fixtures.storyDelta(deleted, [:], at: s(6), deleted: true),
            Fixtures.storyDelta(korean, ["title": "두만강을 건너", "body": "밤에 떠났다.", "language": "ko"], at: s(7)),
        ]
    }()

    @Test func replicasThatSawTheSameChangesInAnyOrderExportTheSameBytes() throws {
        // Given one replica that got the history in one page, in order
        let inOrder = try makeEmptyReplica(named: "a.sqlite")
        try inOrder.apply(Fixtures.page(Self.history, cursor: Fixtures.cursor(7)))
        // and another that got it backwards, one change per page
        let backwards = try makeEmptyReplica(named: "b.sqlite")
        for (index, delta) in Self.history.reversed().enumerated() {
            try backwards.apply(Fixtures.page([delta], cursor: Fixtures.cursor(Int64(index + 1)), more: index < 6))
        }

        // When both export
        let first = try inOrder.exportPack().canonicalJSON()
        let second = try backwards.exportPack().canonicalJSON()

        // Then the files are byte for byte the same and hold the merged, visible records
        #expect(first == second)
        let pack = try ContentPack.decode(first)
        #expect(pack.records.map(\.id) == [RecordIDs.fourth, RecordIDs.first, RecordIDs.second])
        #expect(
            pack.records[1].fields == [
                "title": "Second title", "body": "Body.", "language": "en", "tags": ["routes", "china"],
            ])
        #expect(pack.records[2].fields["customField"] == .object(["a": 1, "b": [.double(1.5), true]]))
        #expect(pack.records[0].fields["title"] == "두만강을 건너")
        let text = String(decoding: first, as: UTF8.self)
        #expect(!text.contains("null"))
        #expect(!text.contains("Gone"))
        #expect(text.hasSuffix("}\n"))
    }

    @Test func exportLeavesOutDeletedRecordsAndClearedFields() throws {
        // Given a replica with a story whose summary was cleared, and a deleted resource
        let replica = try makeEmptyReplica()
        let story = try replica.add(
            .story, values: Fixtures.story().merging(["summary": "Short.", "region": "Seoul"]) { $1 })
        try replica.edit(story, values: ["summary": .null])
        let resource = try replica.add(.resource, values: ["name": "Hotline", "category": "hotline", "country": "KR"])
        try replica.delete(resource)

        // When it exports
        let pack = try replica.exportPack()

        // Then only the story is there, without the cleared field, with its latest stamp as version
        #expect(pack.format == "haven-pack/1")
        #expect(
            pack.records == [
                ContentPack.Record(
                    id: story, kind: .story, fields: Fixtures.story().merging(["region": "Seoul"]) { $1 },
                    version: try replica.record(story).latestStamp)
            ])
        #expect(try ContentPack.decode(pack.canonicalJSON()) == pack)
    }

    @Test func restoredRecordIsExportedAgain() throws {
        let replica = try makeEmptyReplica()
        let id = try replica.add(.story, values: Fixtures.story())
        try replica.delete(id)
        #expect(try replica.exportPack().records.isEmpty)

        try replica.restore(id)

        #expect(try replica.exportPack().records.map(\.id) == [id])
    }
}
