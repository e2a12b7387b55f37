import Foundation
import HavenCore
import HavenServer
import Testing

struct CompactJSONTests {
    /// Values with everything a string can need escaped, numbers of each kind, and nesting.
    private static let values: [JSONValue] = [
        .null, .bool(true), .bool(false), .int(0), .int(-42), .int(Int64.max), .double(2.0), .double(-0.5),
        .double(1e-7), .double(123456.789),
        .string(""), .string("plain"), .string("탈북 여성들의 이야기 — mixed / slashes \\ and \"quotes\""),
        .string("controls \u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F} end"), .string("e\u{301} 😀"),
        .array([]), .array(["a", 1, .array([true, .null])]),
        .object([:]), .object(["k/ey": "v", "n": .object(["deep": .array([1, .double(2.5)])])]),
    ]

    private static func register(_ value: JSONValue, _ counter: UInt16) -> Register {
        Register(value, stamp: stamp(1_700_000_000_000, counter, "a1b2c3d4e5f60718"))
    }

    private static let change = Change(
        id: "a1b2c3d4e5f60718-7", base: SyncCursor("abc.12.3"),
        record: RecordState(
            id: storyID, kind: .story,
            fields: Dictionary(uniqueKeysWithValues: values.enumerated().map { ("f\($0.offset)", register($0.element, UInt16($0.offset))) }),
            deleted: register(.bool(false), 99)))

    @Test func aChangeReadsBackEqualAndAsLongAsJSONEncoderWritesIt() throws {
        for change in [Self.change, Change(id: "x-1", base: nil, record: RecordState(id: storyID, kind: .resource))] {
            let bytes = try CompactJSON.encode(change)
            #expect(try JSONDecoder().decode(Change.self, from: Data(bytes)) == change)
            #expect(bytes.count == (try JSONEncoder().encode(change)).count)
        }
    }

    @Test func aTrackedRecordReadsBackEqualAndAsLongAsJSONEncoderWritesIt() throws {
        var record = TrackedRecord(id: storyID, kind: .story)
        _ = record.apply(Self.change.record, seq: 12, author: "tok/en\"1", seen: 0)
        let bytes = try CompactJSON.encode(record)
        #expect(try JSONDecoder().decode(TrackedRecord.self, from: Data(bytes)) == record)
        #expect(bytes.count == (try JSONEncoder().encode(record)).count)
        let empty = TrackedRecord(id: storyID, kind: .resource)
        #expect(try JSONDecoder().decode(TrackedRecord.self, from: Data(CompactJSON.encode(empty))) == empty)
    }

    @Test func aPullAnswerReadsBackEqualAndAsLongAsJSONEncoderWritesIt() throws {
        let conflict = Conflict(
            recordID: storyID, kind: .story, field: "title", value: "Crossing / \"the\" river",
            stamp: Self.register(.null, 1).stamp, winner: Self.register(.null, 2).stamp, winnerAuthor: "editor",
            reason: .overwritten, recipient: "tok1")
        let answers = [
            PullResponse(
                changes: [Self.change.record, RecordState(id: storyID, kind: .resource)], removed: ["r/1", "r2"],
                conflicts: [conflict], cursor: SyncCursor("abc.12.30")!, more: true, serverTime: 1_750_000_000_000,
                remaining: 4_321),
            PullResponse(changes: [], conflicts: [], cursor: SyncCursor("abc.47")!, more: false, serverTime: 1),
        ]
        for answer in answers {
            let bytes = try CompactJSON.encode(answer)
            #expect(try JSONDecoder().decode(PullResponse.self, from: Data(bytes)) == answer)
            #expect(bytes.count == (try JSONEncoder().encode(answer)).count)
        }
    }

    @Test func aNumberJSONCannotCarryIsRefused() {
        let change = Change(
            id: "x-1", base: nil,
            record: RecordState(id: storyID, kind: .story, fields: ["n": Self.register(.double(.nan), 1)]))
        #expect(throws: CompactJSON.InvalidNumber.self) { try CompactJSON.encode(change) }
    }
}

/// A record id and stamps for these tests.
private let storyID = "0b1c2d3e-4f50-4617-8899-aabbccddeeff"

private func stamp(_ physical: UInt64, _ counter: UInt16 = 0, _ replica: String) -> Timestamp {
    Timestamp(physical: physical, counter: counter, replica: ReplicaID(replica)!)
}
