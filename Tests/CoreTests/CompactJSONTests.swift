import Foundation
import HavenCore
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

    @Test func everyStyleWritesAnObjectsKeysSortedWhateverTheDictionarysOrder() throws {
        // Given the same fields in two dictionaries that iterate in different orders
        let fields = Self.change.record.fields
        var roomy = [String: Register](minimumCapacity: 512)
        for (name, register) in fields.sorted(by: { $0.key > $1.key }) { roomy[name] = register }
        #expect(Array(roomy.keys) != Array(fields.keys), "the two dictionaries should iterate differently")
        let tight = RecordState(id: storyID, kind: .story, fields: fields)
        let loose = RecordState(id: storyID, kind: .story, fields: roomy)
        for style in [CompactJSON.Style.server, .replica, .sharedStamps] {
            // Then each style writes one text, its fields in sorted order (what gzips best)
            let text = try CompactJSON.encode(tight, style: style)
            #expect(text == (try CompactJSON.encode(loose, style: style)))
            let written = String(decoding: text, as: UTF8.self)
            let positions = fields.keys.sorted().map { written.range(of: "\"\($0)\":{")?.lowerBound }
            #expect(!positions.contains(nil) && positions == positions.sorted { $0! < $1! })
        }
    }

    @Test func aChangesSizeReadFromItsReplicaTextIsTheServersCount() throws {
        // A replica's outbox text differs from the server's JSON in key order and unescaped slashes
        let changes = [
            Self.change, Change(id: "x-1", base: nil, record: RecordState(id: storyID, kind: .resource)),
            Change(
                id: "a/b-2", base: SyncCursor("abc.1"),
                record: RecordState(
                    id: storyID, kind: .story, fields: ["url": Self.register("https://example.org/a//b/", 3)])),
        ]
        for change in changes {
            let replicaText = String(decoding: try CompactJSON.encode(change, style: .replica), as: UTF8.self)
            #expect(Change.encodedBytes(replicaJSON: replicaText) == change.encodedBytes)
            #expect(change.encodedBytes == (try JSONEncoder().encode(change)).count)
        }
    }

    @Test func recordsSharingAStampStateItOnceAndReadBackEqual() throws {
        // Given records whose registers share one stamp, mostly share one, or share none
        let one = Self.register(.null, 5).stamp
        let other = Self.register(.null, 6).stamp
        let shared = RecordState(
            id: storyID, kind: .story,
            fields: ["title": Register("Crossing / 건너기", stamp: one), "body": Register("…", stamp: one)],
            deleted: Register(.bool(false), stamp: one))
        var mostly = shared
        mostly.fields["summary"] = Register("later", stamp: other)
        let none = RecordState(
            id: storyID, kind: .resource,
            fields: ["name": Register("A", stamp: one), "phone": Register("+82", stamp: other)])
        let written = try [shared, mostly, none, Self.change.record].map { (record: $0, text: try CompactJSON.encode($0, style: .sharedStamps)) }

        // Then the shared stamp is stated once, the others where they are, and every reader
        // gives the same record back
        let sharedText = String(decoding: written[0].text, as: UTF8.self)
        #expect(sharedText.components(separatedBy: one.description).count == 2)
        #expect(sharedText.hasSuffix(#","stamp":"\#(one.description)"}"#))
        #expect(String(decoding: written[1].text, as: UTF8.self).contains(#"{"value":"later","stamp":"\#(other.description)"}"#))
        #expect(!String(decoding: written[2].text, as: UTF8.self).contains(#"},"stamp""#))
        for (record, text) in written {
            #expect(try JSONReader.decode(RecordState.self, from: Data(text)) == record)
            #expect(try JSONDecoder().decode(RecordState.self, from: Data(text)) == record)
            #expect(text.count <= (try CompactJSON.encode(record)).count)
        }

        // And a register with no stamp of its own, in a record without one, is refused by both
        let unstamped = Data(#"{"id":"\#(storyID)","kind":"story","fields":{"title":{"value":"x"}}}"#.utf8)
        #expect(throws: (any Error).self) { try JSONReader.decode(RecordState.self, from: unstamped) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(RecordState.self, from: unstamped) }
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

    @Test func stampsAtTheirLimitsAreWrittenAsTheirDescription() throws {
        for (physical, counter) in [(UInt64(0), UInt16(0)), (Timestamp.maxPhysical, UInt16.max), (0xabc, 0x1f)] {
            let register = Register(.null, stamp: stamp(physical, counter, "z9"))
            let text = String(decoding: try CompactJSON.encode(RecordState(id: storyID, kind: .story, fields: ["f": register])), as: UTF8.self)
            #expect(text.contains("\"stamp\":\"\(register.stamp.description)\""))
            #expect(try JSONDecoder().decode(RecordState.self, from: Data(text.utf8)).fields["f"] == register)
        }
    }

    @Test func theReplicaStyleIsTheTextTheReplicasEncoderWrites() throws {
        // The replica's encoder: keys sorted, slashes as they are (Replica.swift).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let mixedKeys = RecordState(
            id: storyID, kind: .resource,
            fields: [
                "name": Self.register("Hana / 하나", 1), "Zeta": Self.register(.object(["b/c": 1, "B": [.null], "a10": "x", "a9": "y"]), 2),
                "_x": Self.register(true, 3), "a1": Self.register(.double(0.25), 4),
            ])
        func text(_ bytes: some Sequence<UInt8>) -> String { String(decoding: Array(bytes), as: UTF8.self) }
        for change in [Self.change, Change(id: "x-1", base: nil, record: mixedKeys)] {
            #expect(try text(CompactJSON.encode(change, style: .replica)) == text(encoder.encode(change)))
            #expect(try text(CompactJSON.encode(change.record, style: .replica)) == text(encoder.encode(change.record)))
        }
    }

    /// Strings are scanned eight bytes at a time (PlainText): a byte to escape at every offset of
    /// a word, and in the tail after the last whole word, is written as JSONEncoder writes it
    /// and read back the same.
    @Test func aByteToEscapeIsFoundAtEveryOffset() throws {
        let server = JSONEncoder()
        let replica = JSONEncoder()
        replica.outputFormatting = [.withoutEscapingSlashes]
        for special in ["\"", "\\", "/", "\u{1}", "\n", "\u{1F}", "é", "탈"] {
            for offset in 0..<20 {
                let text = String(repeating: "a", count: offset) + special + String(repeating: "b", count: 19 - offset)
                let record = RecordState(id: storyID, kind: .story, fields: ["title": Self.register(.string(text), 1)])
                for (style, encoder) in [(CompactJSON.Style.server, server), (.replica, replica)] {
                    let written = String(decoding: try CompactJSON.encode(record, style: style), as: UTF8.self)
                    // The string as JSONEncoder writes it, without the array around it.
                    let expected = String(String(decoding: try encoder.encode([text]), as: UTF8.self).dropFirst().dropLast())
                    #expect(written.contains("\"value\":\(expected)"), "\(style): \(written)")
                    #expect(try JSONReader.decode(RecordState.self, from: Data(written.utf8)) == record)
                }
            }
        }
    }

    @Test func aNumberJSONCannotCarryIsRefused() {
        let change = Change(
            id: "x-1", base: nil,
            record: RecordState(id: storyID, kind: .story, fields: ["n": Self.register(.double(.nan), 1)]))
        #expect(throws: CompactJSON.InvalidNumber.self) { try CompactJSON.encode(change) }
    }
}
