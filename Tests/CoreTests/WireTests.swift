import Foundation
import HavenCore
import Testing

struct WireTests {
    private func roundTrip<T: Codable & Equatable>(_ value: T) throws -> T {
        try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value))
    }

    @Test func changesRoundTripWithStampsAsStrings() throws {
        // Given a change that writes a title and deletes the record
        var record = storyEdit(["title": "T", "tags": ["a"]], at: stamp(0x0193_a1b2_c3d4, 1, "r1"))
        record.deleted = Register(true, stamp: stamp(0x0193_a1b2_c3d4, 1, "r1"))
        let change = Change(id: "r1-7", base: SyncCursor(epoch: "ab12", seq: 3), record: record)

        // When / Then
        #expect(try roundTrip(change) == change)
        let json = String(decoding: try JSONEncoder().encode(change), as: UTF8.self)
        #expect(json.contains(#""0193a1b2c3d4-0001-r1""#))
        #expect(json.contains(#""ab12.3""#))
    }

    @Test func pushAndPullBodiesRoundTrip() throws {
        let conflict = Conflict(
            recordID: storyID, kind: .story, field: "title", value: "lost", stamp: stamp(1, 0, "a"),
            winner: stamp(2, 0, "b"),
            winnerAuthor: "bob", reason: .overwritten, recipient: "alice")
        let pull = PullResponse(
            changes: [storyEdit(["body": "B"], at: stamp(2, 0, "b"))], removed: [storyID], conflicts: [conflict],
            cursor: SyncCursor(epoch: "ab12", seq: 9), more: true, serverTime: 1_700_000_000_000)
        let push = PushResponse(
            results: [
                PushResult(id: "a-1", status: .applied), PushResult(id: "a-2", status: .duplicate),
                PushResult(
                    id: "a-3", status: .rejected,
                    error: ErrorDetail(code: .invalidField, message: "title: must be text")),
            ], serverTime: 1_700_000_000_000)

        #expect(try roundTrip(pull) == pull)
        #expect(try roundTrip(push) == push)
        #expect(try roundTrip(PushRequest(changes: [])) == PushRequest(changes: []))
    }

    @Test func errorBodyHasTheDocumentedShape() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys

        let data = try encoder.encode(ErrorBody(ErrorDetail(code: .clockAhead, message: "stamp is 700 s ahead")))

        #expect(
            String(decoding: data, as: UTF8.self)
                == #"{"error":{"code":"clock_ahead","message":"stamp is 700 s ahead"}}"#)
        #expect(
            ErrorDetail(code: .clockAhead, message: "stamp is 700 s ahead").description
                == "stamp is 700 s ahead (clock_ahead)")
    }

    @Test func anEmptyPullAnswerLeavesOutItsEmptyListsAndReadsBackTheSame() throws {
        let empty = PullResponse(
            changes: [], conflicts: [], cursor: SyncCursor(epoch: "e1", seq: 47), more: false, serverTime: 1_750_000_000_000)

        let text = String(decoding: try JSONEncoder().encode(empty), as: UTF8.self)

        #expect(!text.contains("changes") && !text.contains("removed") && !text.contains("conflicts"))
        #expect(try JSONDecoder().decode(PullResponse.self, from: Data(text.utf8)) == empty)
        let full = PullResponse(
            changes: [RecordState(id: "a", kind: .story)], removed: ["b"], conflicts: [],
            cursor: SyncCursor(epoch: "e1", seq: 48), more: true, serverTime: 1)
        #expect(try JSONDecoder().decode(PullResponse.self, from: JSONEncoder().encode(full)) == full)
    }
}
