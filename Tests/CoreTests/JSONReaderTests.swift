import Foundation
import HavenCore
import Testing
import TestSupport

/// `JSONReader` must read what `JSONDecoder` reads, the same values, and never accept what it
/// refuses: on the documents Haven writes, on whitespace and unknown keys, on edge cases of
/// numbers and strings, and on thousands of damaged documents.
struct JSONReaderTests {
    private static let values: [JSONValue] = [
        .null, .bool(true), .bool(false), .int(0), .int(-42), .int(Int64.max), .int(Int64.min), .double(-0.5),
        .double(1e-7), .double(123456.789), .double(1.5e300), .string(""), .string("plain"),
        .string("탈북 여성들의 이야기 — mixed / slashes \\ and \"quotes\""),
        .string("controls \u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F} end"), .string("e\u{301} 😀 \u{FFFF}"),
        .array([]), .array(["a", 1, .array([true, .null])]),
        .object([:]), .object(["k/ey": "v", "n": .object(["deep": .array([1, .double(2.5)])])]),
    ]

    private static func register(_ value: JSONValue, _ counter: UInt16) -> Register {
        Register(value, stamp: stamp(1_700_000_000_000, counter, "a1b2c3d4e5f60718"))
    }

    private static let state = RecordState(
        id: storyID, kind: .story,
        fields: Dictionary(uniqueKeysWithValues: values.enumerated().map { ("f\($0.offset)", register($0.element, UInt16($0.offset))) }),
        deleted: register(.bool(false), 99))

    private static let change = Change(id: "a1b2c3d4e5f60718-7", base: SyncCursor("abc.12.3"), record: state)

    private static var tracked: TrackedRecord {
        var record = TrackedRecord(id: storyID, kind: .story)
        _ = record.apply(state, seq: 12, author: "tok/en\"1", seen: 0)
        return record
    }

    private static let signature = PublishedSetSignature(key: "k1", seq: 47, digest: "ZGlnZXN0", signature: "c2ln")

    private static let answers = [
        PullResponse(
            changes: [state, RecordState(id: storyID, kind: .resource)], removed: ["r/1", "r2"], conflicts: [],
            cursor: SyncCursor("abc.12.30")!, more: true, serverTime: 1_750_000_000_000, remaining: 4_321),
        PullResponse(changes: [], conflicts: [], cursor: SyncCursor("abc.47")!, more: false, serverTime: 1, signature: signature),
    ]

    /// Each document as `JSONEncoder` writes it, pretty and sorted, and as `CompactJSON` writes it.
    private static func texts(_ value: some Encodable) throws -> [Data] {
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return [try JSONEncoder().encode(value), try pretty.encode(value)]
    }

    /// The fast reading alone, or nil where it gives up.
    private static func fast<T: JSONReadable>(_ type: T.Type, _ data: Data) -> T? {
        try? data.withUnsafeBytes { try JSONReader.read(T.self, $0) }
    }

    @Test func everyTypeReadsWhatJSONDecoderReads() throws {
        func check<T: JSONReadable & Encodable & Equatable>(_ value: T, _ extra: [Data] = []) throws {
            for data in try Self.texts(value) + extra {
                #expect(Self.fast(T.self, data) == value)
                #expect(try JSONDecoder().decode(T.self, from: data) == value)
            }
        }
        try check(Self.state, [Data(try CompactJSON.encode(Self.state)), Data(try CompactJSON.encode(Self.state, style: .replica))])
        try check(Self.change, [Data(try CompactJSON.encode(Self.change, style: .replica))])
        try check(Self.tracked, [Data(try CompactJSON.encode(Self.tracked))])
        try check(PushRequest(changes: [Self.change, Change(id: "x-1", base: nil, record: RecordState(id: storyID, kind: .resource))]))
        for answer in Self.answers { try check(answer, [Data(try CompactJSON.encode(answer))]) }
        for value in Self.values { try check(value) }
    }

    @Test func unknownKeysAndNullOptionalsReadAsJSONDecoderReadsThem() throws {
        let documents = [
            #"{"id":"x","kind":"story","fields":{},"deleted":null,"extra":[1,{"a":null}]}"#,
            #"{"more":false,"cursor":"abc.4","serverTime":5,"changes":null,"removed":null,"conflicts":[],"remaining":null,"signature":null,"new":true}"#,
            #"{"id":"c-1","base":null,"record":{"kind":"resource","id":"y","fields":{}}}"#,
            #" { "changes" : [ ] } "#,
        ]
        #expect(Self.fast(RecordState.self, Data(documents[0].utf8)) == (try JSONDecoder().decode(RecordState.self, from: Data(documents[0].utf8))))
        #expect(Self.fast(PullResponse.self, Data(documents[1].utf8)) == (try JSONDecoder().decode(PullResponse.self, from: Data(documents[1].utf8))))
        #expect(Self.fast(Change.self, Data(documents[2].utf8)) == (try JSONDecoder().decode(Change.self, from: Data(documents[2].utf8))))
        #expect(Self.fast(PushRequest.self, Data(documents[3].utf8)) == PushRequest(changes: []))
    }

    @Test func aPageWithConflictsIsLeftToJSONDecoderAndReadTheSame() throws {
        let conflict = Conflict(
            recordID: storyID, kind: .story, field: "title", value: "x", stamp: Self.register(.null, 1).stamp,
            winner: Self.register(.null, 2).stamp, winnerAuthor: "editor", reason: .overwritten, recipient: "tok1")
        let answer = PullResponse(changes: [Self.state], conflicts: [conflict], cursor: SyncCursor("abc.9")!, more: false, serverTime: 3)
        let data = try JSONEncoder().encode(answer)
        #expect(Self.fast(PullResponse.self, data) == nil)
        #expect(try JSONReader.decode(PullResponse.self, from: data) == answer)
    }

    /// Numbers and strings at the edges: where the fast reading accepts, `JSONDecoder` accepts
    /// the same value; where it refuses, ``JSONReader/decode(_:from:)`` answers as `JSONDecoder`.
    @Test func edgeCasesOfNumbersAndStringsAgreeWithJSONDecoder() throws {
        let snippets = [
            "2.0", "1e2", "1E+2", "-0", "-0.0", "0.5e-3", "9223372036854775807", "-9223372036854775808",
            "9223372036854775808", "18446744073709551616", "92233720368547758.7", "9007199254740993.5", "-1e17", "1e400", "-1e400", "1.5", "01", "-", "1.", ".5", "+1",
            "0x10", "NaN", "Infinity", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":}", "[1 2]", " [1] ",
            "nul", "truex", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud83d\\ude00\"", "\"\\ud83dx\"", "\"\\u00e9\\u0000\"",
            "\"\\x\"", "\"tab\there\"", "\"\\u12\"", "\"a\\/b\"", "\"\u{1}\"", "[]]", "{}{}", "\"unterminated",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ]
        for snippet in snippets {
            var data = Data(snippet.utf8)
            if snippet == "\"\u{1}\"" { data = Data([0x22, 0x01, 0x22]) }
            try Self.agree(JSONValue.self, data, snippet)
        }
        // Invalid UTF-8 in a string, plain and after an escape.
        try Self.agree(JSONValue.self, Data([0x22, 0xC3, 0x28, 0x22]), "invalid UTF-8")
        try Self.agree(JSONValue.self, Data([0x22, 0x5C, 0x6E, 0xFF, 0x22]), "invalid UTF-8 after an escape")
        // An integer register read as a stamp's counter's neighbour: seq must be a whole number.
        for seq in ["12", "12.0", "1.2e1", "12.5", "-1", "1e30"] {
            let text = #"{"register":{"value":1,"stamp":"0000018bcfe56800-0000-a1b2c3d4e5f60718"},"seq":\#(seq),"author":"a"}"#
            try Self.agree(TrackedRecord.Entry.self, Data(text.utf8), "seq \(seq)")
        }
        for time in ["5", "18446744073709551615", "18446744073709551616", "-5", "5.0", "5e0"] {
            let text = #"{"cursor":"abc.4","more":false,"serverTime":\#(time)}"#
            try Self.agree(PullResponse.self, Data(text.utf8), "serverTime \(time)")
        }
    }

    /// Thousands of damaged documents: a byte changed, removed, repeated or cut.
    @Test(arguments: [1, 2, 3, 4])
    func damagedDocumentsNeverReadOtherwiseThanWithJSONDecoder(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let documents = try [
            Data(CompactJSON.encode(Self.answers[0])), Data(CompactJSON.encode(Self.answers[1])),
            try JSONEncoder().encode(PushRequest(changes: [Self.change])), Data(CompactJSON.encode(Self.tracked)),
        ]
        let replacements = Array(#"{}[],:"\0123456789-+.eEtrufalsn u"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF]
        for round in 0..<500 {
            var bytes = [UInt8](random.pick(documents))
            let at = random.int(in: 0...(bytes.count - 1))
            switch random.int(in: 0...3) {
            case 0: bytes[at] = random.pick(replacements)
            case 1: bytes.remove(at: at)
            case 2: bytes.insert(bytes[at], at: at)
            default: bytes.removeSubrange(at...)
            }
            let data = Data(bytes)
            try Self.agree(PullResponse.self, data, "round \(round)")
            try Self.agree(PushRequest.self, data, "round \(round)")
            try Self.agree(TrackedRecord.self, data, "round \(round)")
        }
    }

    /// Keys sorted: two equal dictionaries may list their keys in different orders.
    private static let canonical: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    /// What `JSONReader` reads of `data` is what `JSONDecoder` reads, compared as the same value
    /// written out again; both refuse alike.
    private static func agree<T: JSONReadable & Encodable>(_ type: T.Type, _ data: Data, _ label: String) throws {
        let reference = try? JSONDecoder().decode(T.self, from: data)
        if let value = fast(T.self, data) {
            #expect(reference != nil, "\(label): read by JSONReader, refused by JSONDecoder")
            if let reference {
                let mine = String(decoding: try canonical.encode(value), as: UTF8.self)
                let theirs = String(decoding: try canonical.encode(reference), as: UTF8.self)
                #expect(mine == theirs, "\(label): \(String(decoding: data, as: UTF8.self))")
            }
        }
        let decoded = try? JSONReader.decode(T.self, from: data)
        #expect((decoded == nil) == (reference == nil), "\(label)")
        if let decoded, let reference {
            #expect(try canonical.encode(decoded) == canonical.encode(reference), "\(label)")
        }
    }
}
