import Foundation
import HavenCore
import PropertyBased
import Testing

struct ContentPackTests {
    private static let firstID = "11111111-2222-4333-8444-555555555555"
    private static let secondID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

    private static let uuid = Gen<Character?>.element(of: Array("0123456789abcdef")).map { $0! }.string(of: 32)
        .map { hex in
            let c = Array(hex)
            return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(c[$0]) }.joined(separator: "-")
        }
    private static let text = Gen.letterOrNumber.string(of: 1...12)

    /// A valid story or resource with an unknown field of nested values.
    private static let record = zip(uuid, Gen.bool, text, text, Gen.int64(in: -1_000...1_000), text.array(of: 0...3))
        .map { id, isStory, first, second, number, list -> ContentPack.Record in
            let extra: JSONValue = .object(["n": .int(number), "list": .array(list.map(JSONValue.string)), "ok": true])
            return isStory
                ? ContentPack.Record(
                    id: id, kind: .story,
                    fields: ["title": .string(first), "body": .string(second), "language": "ko", "x_extra": extra])
                : ContentPack.Record(
                    id: id, kind: .resource,
                    fields: ["name": .string(first), "category": "legal", "country": "KR", "x_extra": extra])
        }
    /// Valid packs: records with distinct ids.
    private static let packs = record.array(of: 0...6).map { records in
        ContentPack(
            records: Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }).values.sorted {
                $0.id > $1.id
            })
    }

    private func json(_ text: String) -> Data { Data(text.utf8) }

    private func story(_ id: String, _ fields: String = #""title":"T","body":"B","language":"en""#) -> String {
        #"{"id":"\#(id)","kind":"story","fields":{\#(fields)}}"#
    }

    private func pack(_ records: [String], format: String = "haven-pack/1") -> Data {
        json(#"{"format":"\#(format)","records":[\#(records.joined(separator: ","))]}"#)
    }

    /// Packs are read without JSONDecoder unless something is unusual; the edges read the same.
    @Test func theEdgesOfAPackReadAsJSONDecoderReadsThem() throws {
        // A null id is a missing one: the record is given an id.
        let generated = try ContentPack.read(pack([#"{"id":null,"kind":"story","fields":{"title":"T","body":"B","language":"en"}}"#]), makeID: { Self.firstID })
        #expect(generated.pack.records.map(\.id) == [Self.firstID])
        #expect(generated.generatedIDs == [1])
        // An empty id is at fault, named as before.
        #expect(decodeError(pack([story("")]))?.contains("record 1") == true)
        // A repeated key reads as JSONDecoder reads it.
        let repeated = #"{"id":"\#(Self.secondID)","kind":"story","kind":"resource","fields":{"title":"T","title":"U","body":"B","language":"en"}}"#
        let reference = try JSONDecoder().decode(ContentPack.Record.self, from: json(repeated))
        #expect(try ContentPack.read(pack([repeated])).pack.records == [reference])
        // Whitespace, unknown keys and a null version change nothing.
        let spaced = " { \"records\" : [ {\"version\":null, \"x\":[1,{}], \"id\":\"\(Self.secondID)\",\"kind\":\"story\",\"fields\":{\"title\":\"T\",\"body\":\"B\",\"language\":\"en\"}} ], \"format\":\"haven-pack/1\", \"date\":null } "
        #expect(try ContentPack.read(json(spaced)).pack == ContentPack.decode(pack([story(Self.secondID)])))
    }

    /// The message of the error `ContentPack.decode` throws for `data`.
    private func decodeError(_ data: Data) -> String? {
        let error = #expect(throws: ContentPackError.self) { try ContentPack.decode(data) }
        return error?.message
    }

    @Test func decodesAValidPack() throws {
        let decoded = try ContentPack.decode(pack([story(Self.firstID), story(Self.secondID)]))

        #expect(decoded.format == ContentPack.currentFormat)
        #expect(decoded.records.map(\.id) == [Self.firstID, Self.secondID])
        #expect(decoded.records[0].fields == ["title": "T", "body": "B", "language": "en"])
    }

    @Test func rejectsAnotherFormat() {
        #expect(decodeError(pack([], format: "haven-pack/2")) == "format is 'haven-pack/2', expected 'haven-pack/1'")
    }

    @Test(arguments: [
        ("not json", "not a content pack: invalid JSON"),
        (#"{"format":"haven-pack/1"}"#, "not a content pack: records: missing"),
        (#"{"records":[]}"#, "not a content pack: format: missing"),
        (#"{"format":"haven-pack/1","records":{}}"#, "not a content pack: records: expected Array<Any>"),
    ])
    func rejectsDocumentsThatAreNotPacks(_ text: String, message: String) {
        #expect(decodeError(json(text)) == message)
    }

    @Test func decodeErrorsNameTheRecordPath() throws {
        let missingKind = decodeError(pack([story(Self.firstID), #"{"id":"\#(Self.secondID)","fields":{}}"#]))
        #expect(missingKind == "record 2: kind: missing")

        let badKind = try #require(decodeError(pack([#"{"id":"\#(Self.firstID)","kind":"video","fields":{}}"#])))
        #expect(badKind.hasPrefix("record 1: kind: "))
        #expect(!badKind.contains("video"))
    }

    @Test(arguments: [
        "",
        "not-a-uuid",
        "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE",
        "aaaaaaaabbbb4ccc8dddeeeeeeeeeeee",
        "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee",
        "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeeee",
        "gaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
        "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee-",
        "\u{FF41}aaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",  // a full-width 'a'
    ])
    func rejectsBadIDsNamingTheRecord(_ id: String) {
        // Given a good first record and a bad id in the second
        let data = pack([story(Self.firstID), story(id)])

        // Then
        #expect(decodeError(data) == "record 2: id '\(id)' is not a lowercase UUID")
        #expect(!RecordID.isValid(id))
    }

    @Test func rejectsDuplicateIDs() {
        let data = pack([story(Self.firstID), story(Self.secondID), story(Self.firstID)])

        #expect(decodeError(data) == "record 3: id \(Self.firstID) appears twice")
    }

    @Test(arguments: [
        (#""title":"T","body":"B""#, "language: required for a story, but missing"),
        (#""title":"T","body":"B","language":"english""#, "language: must be a BCP 47 language tag such as en or ko"),
        (#""title":"","body":"B","language":"en""#, "title: must not be empty"),
        (#""title":"T","body":"B","language":"en","bad name":1"#, "bad name: not a valid field name"),
    ])
    func rejectsInvalidRecordsNamingTheRecordAndField(_ fields: String, message: String) throws {
        let data = pack([story(Self.firstID), story(Self.secondID, fields)])

        let error = try #require(decodeError(data))
        #expect(error.hasPrefix("record 2 (\(Self.secondID)): \(message)"))
    }

    @Test func everyBadRecordIsListedByItsNumber() throws {
        let data = pack([story("not-a-uuid"), story(Self.firstID), #"{"id":"\#(Self.secondID)","fields":{}}"#, story(Self.firstID)])

        #expect(
            decodeError(data) == """
                3 of 4 records are not valid:
                  record 1: id 'not-a-uuid' is not a lowercase UUID
                  record 3: kind: missing
                  record 4: id \(Self.firstID) appears twice
                """)
    }

    @Test func recordsWithoutIDsAreGivenOnesThatCanBeWrittenBack() throws {
        // Given a pack whose second record has no id, and a key the pack format does not know
        let data = json(
            #"{"format":"haven-pack/1","note":"kept","records":[\#(story(Self.firstID)),{"kind":"story","fields":{"title":"T","body":"B","language":"en"}}]}"#)

        // When it is read
        let reading = try ContentPack.read(data, makeID: { Self.secondID })

        // Then the record has the new id, and writing it back keeps everything else
        #expect(reading.generatedIDs == [2])
        #expect(reading.pack.records.map(\.id) == [Self.firstID, Self.secondID])
        let rewritten = try ContentPack.writingIDs(of: reading, into: data)
        #expect(try ContentPack.read(rewritten).pack == reading.pack)
        #expect(try ContentPack.read(rewritten).generatedIDs.isEmpty)
        #expect(String(decoding: rewritten, as: UTF8.self).contains(#""note" : "kept""#))
    }

    @Test(arguments: [
        ("phnoe", RecordKind.resource, "unknown field 'phnoe' for a resource (did you mean 'phone'?): kept as it is"),
        ("Title", .story, "unknown field 'Title' for a story (did you mean 'title'?): kept as it is"),
        ("verifiedat", .resource, "unknown field 'verifiedat' for a resource (did you mean 'verifiedAt'?): kept as it is"),
        ("x_extra", .story, "unknown field 'x_extra' for a story: kept as it is"),
    ])
    func unknownFieldsAreNamedWithTheNearestKnownOne(_ name: String, kind: RecordKind, note: String) {
        #expect(RecordSchema.unknownFieldNote(name, kind: kind) == note)
        #expect(RecordSchema.unknownFieldNote("phone", kind: .resource) == nil)
    }

    @Test func aBadDateIsRefused() {
        #expect(
            decodeError(json(#"{"format":"haven-pack/1","date":"last week","records":[]}"#))
                == "date: 'last week' is not an ISO 8601 date such as 2026-12-01 or 2026-12-01T09:30:00Z")
    }

    @Test func randomRecordIDsAreValid() {
        #expect((0..<20).allSatisfy { _ in RecordID.isValid(RecordID.random()) })
    }

    @Test func canonicalJSONIgnoresRecordAndKeyOrder() async throws {
        await propertyCheck(count: 100, input: Self.packs, Gen.int(in: 0...10)) { pack, rotation in
            // Given the same pack with its records rotated and every dictionary rebuilt in reverse insertion order
            var shuffled = pack
            if !pack.records.isEmpty {
                let k = rotation % pack.records.count
                shuffled.records = Array(pack.records[k...] + pack.records[..<k]).map { record in
                    var fields: [String: JSONValue] = Dictionary(minimumCapacity: 64)
                    for (name, value) in record.fields.sorted(by: { $0.key > $1.key }) { fields[name] = value }
                    return ContentPack.Record(id: record.id, kind: record.kind, fields: fields)
                }
            }

            // When
            let original = try pack.canonicalJSON()
            let reordered = try shuffled.canonicalJSON()

            // Then
            #expect(original == reordered)
        }
    }

    @Test func canonicalJSONSortsRecordsAndKeys() throws {
        let pack = ContentPack(records: [
            ContentPack.Record(
                id: Self.secondID, kind: .resource, fields: ["name": "N", "category": "legal", "country": "KR"]),
            ContentPack.Record(
                id: Self.firstID, kind: .story, fields: ["title": "T/1", "body": "B", "language": "en"]),
        ])

        let text = String(decoding: try pack.canonicalJSON(), as: UTF8.self)

        #expect(
            text == """
                {
                  "format" : "haven-pack/1",
                  "records" : [
                    {
                      "fields" : {
                        "body" : "B",
                        "language" : "en",
                        "title" : "T/1"
                      },
                      "id" : "\(Self.firstID)",
                      "kind" : "story"
                    },
                    {
                      "fields" : {
                        "category" : "legal",
                        "country" : "KR",
                        "name" : "N"
                      },
                      "id" : "\(Self.secondID)",
                      "kind" : "resource"
                    }
                  ]
                }

                """)
    }

    @Test func decodingCanonicalJSONGivesThePackBack() async throws {
        await propertyCheck(count: 100, input: Self.packs) { pack in
            let decoded = try ContentPack.decode(pack.canonicalJSON())

            #expect(Set(decoded.records.map(\.id)) == Set(pack.records.map(\.id)))
            #expect(decoded == ContentPack(records: pack.records.sorted { $0.id < $1.id }))
        }
    }

    @Test func demoPackDecodesCleanlyWithEnoughStoriesAndResourcesInEnglishAndKorean() throws {
        // Given the pack shipped in Content/, three directories above this file
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("Content/demo-pack.json"))

        // When
        let pack = try ContentPack.decode(data)

        // Then
        let stories = pack.records.filter { $0.kind == .story }
        let resources = pack.records.filter { $0.kind == .resource }
        #expect(stories.count >= 20)
        #expect(resources.count >= 15)
        for language in ["en", "ko"] {
            #expect(stories.count { $0.fields["language"] == .string(language) } >= 10, "stories in \(language)")
            #expect(
                resources.contains { $0.fields["languages"]?.stringArrayValue?.contains(language) == true },
                "no resource serving \(language)")
        }
        let hangul = { (record: ContentPack.Record) in
            record.fields.values.contains {
                $0.stringValue?.unicodeScalars.contains { (0xAC00...0xD7A3).contains($0.value) } == true
            }
        }
        #expect(resources.contains(where: hangul) && resources.contains { !hangul($0) })
        let roundTripped = try ContentPack.decode(pack.canonicalJSON())
        #expect(roundTripped == ContentPack(records: pack.records.sorted { $0.id < $1.id }))
    }
}
