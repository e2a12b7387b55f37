import Crypto
import Foundation
import HavenCore
import HavenTrust
import Testing

struct PublishedSetDigestTests {
    private static let stamp = Timestamp(physical: 1, counter: 0, replica: ReplicaID.random())

    /// A published resource whose phone is `phone`.
    private static func resource(_ number: Int, phone: String = "+82 2 1234 5678") -> RecordState {
        let values: [String: JSONValue] = [
            "name": .string("Shelter \(number)"), "category": .string("shelter"), "country": .string("KR"),
            "phone": .string(phone), "status": .string("published"),
        ]
        return RecordState(
            id: String(format: "00000000-0000-4000-8000-%012d", number), kind: .resource,
            fields: values.mapValues { Register($0, stamp: stamp) })
    }

    @Test func anElementIsItsSeedExpandedBySHA256InCounterModeAsDocumented() {
        // Given a seed, and its element computed as the type's documentation says, plainly:
        // block i is SHA-256(seed ‖ i, 4 bytes big-endian), read as little-endian 16-bit lanes
        let seed = PublishedSetDigest.elementSeed(of: Self.resource(7))
        var expected: [UInt16] = []
        for block in 0..<64 {
            let hash = Array(SHA256.hash(data: seed + [0, 0, 0, UInt8(block)]))
            for lane in 0..<16 { expected.append(UInt16(hash[2 * lane]) | UInt16(hash[2 * lane + 1]) << 8) }
        }

        // When it is added to the empty set, then removed
        var digest = PublishedSetDigest()
        digest.add(seed: seed)
        let added = digest.lanes
        digest.remove(seed: seed)

        // Then the lanes are the element's, and the set is empty again: servers and devices
        // built before and after any rewrite of the expansion agree
        #expect(added == expected)
        #expect(digest == PublishedSetDigest())
    }

    @Test func theProcessorsSHAInstructionsGiveThePortableElementsLanes() throws {
        // Given digests of random lanes (so that lanes wrap both ways), and random seeds
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let start = try #require(PublishedSetDigest(bytes: (0..<PublishedSetDigest.byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) }))
            let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let subtract = Bool.random(using: &generator)

            // When the element is added or removed by the fast path (CLtHash, where the
            // processor has SHA instructions) and by the portable one
            var fast = start
            fast.apply(seed, subtract: subtract)
            var portable = start
            portable.apply(seed, subtract: subtract, portable: true)

            // Then the lanes are the same
            #expect(fast == portable)
            #expect(fast != start)
        }
    }

    @Test func orderDoesNotMatter() {
        let records = (1...20).map { Self.resource($0) }
        var forward = PublishedSetDigest()
        for record in records { forward.add(record) }
        var backward = PublishedSetDigest()
        for record in records.reversed() { backward.add(record) }
        #expect(forward == backward)
        #expect(forward == PublishedSetDigest(of: records.shuffled()))
        #expect(forward != PublishedSetDigest())
    }

    @Test func removeUndoesAdd() {
        let kept = (1...5).map { Self.resource($0) }
        var digest = PublishedSetDigest(of: kept)
        let before = digest
        digest.add(Self.resource(99))
        #expect(digest != before)
        digest.remove(Self.resource(99))
        #expect(digest == before)
        for record in kept { digest.remove(record) }
        #expect(digest == PublishedSetDigest())
    }

    @Test func changesSummedApartAddAsIfMadeOneByOne() {
        let before = (1...10).map { Self.resource($0) }
        var oneByOne = PublishedSetDigest(of: before)
        let start = oneByOne
        // One sum replaces a phone number and removes a record, the other adds two records.
        var first = PublishedSetDigest()
        first.remove(Self.resource(3))
        first.add(Self.resource(3, phone: "+82 2 9999 0000"))
        first.remove(Self.resource(7))
        var second = PublishedSetDigest()
        second.add(Self.resource(11))
        second.add(Self.resource(12))
        oneByOne.remove(Self.resource(3))
        oneByOne.add(Self.resource(3, phone: "+82 2 9999 0000"))
        oneByOne.remove(Self.resource(7))
        oneByOne.add(Self.resource(11))
        oneByOne.add(Self.resource(12))
        for order in [[first, second], [second, first]] {
            var summed = start
            for sum in order { summed.add(changesOf: sum) }
            #expect(summed == oneByOne)
        }
        var expected = before.filter { $0.id != Self.resource(7).id && $0.id != Self.resource(3).id }
        expected += [Self.resource(3, phone: "+82 2 9999 0000"), Self.resource(11), Self.resource(12)]
        #expect(oneByOne == PublishedSetDigest(of: expected))
    }

    @Test func aChangedFieldChangesTheDigest() {
        let genuine = PublishedSetDigest(of: [Self.resource(1), Self.resource(2)])
        let altered = PublishedSetDigest(of: [Self.resource(1), Self.resource(2, phone: "+82 2 9999 0000")])
        #expect(genuine != altered)
        #expect(genuine.summary != altered.summary)
    }

    @Test func onlyThePublishedSetCounts() {
        var draft = Self.resource(3)
        draft.fields["status"] = Register(.string("draft"), stamp: Self.stamp)
        var deleted = Self.resource(4)
        deleted.deleted = Register(.bool(true), stamp: Self.stamp)
        var restricted = RecordState(id: "00000000-0000-4000-8000-000000000005", kind: .story)
        for (name, value) in ["title": "t", "body": "b", "language": "en", "status": "published", "sensitivity": "restricted"] {
            restricted.fields[name] = Register(.string(value), stamp: Self.stamp)
        }
        #expect(PublishedSetDigest(of: [Self.resource(1), draft, deleted, restricted]) == PublishedSetDigest(of: [Self.resource(1)]))
    }

    @Test func bytesRoundTrip() throws {
        let digest = PublishedSetDigest(of: (1...3).map { Self.resource($0) })
        #expect(digest.bytes.count == PublishedSetDigest.byteCount)
        #expect(PublishedSetDigest(bytes: digest.bytes) == digest)
        #expect(PublishedSetDigest(bytes: digest.bytes.dropLast()) == nil)
    }

    @Test func canonicalEncodingIsStable() {
        let values: [String: JSONValue] = [
            "b": .double(2.0), "a": .array([.string("q\"\\\u{1}"), .null, .bool(true), .double(1.5)]),
            "한": .object(["z": .int(-3), "y": .string("서울")]),
        ]
        let text = String(decoding: CanonicalRecord.encoding(kind: .resource, id: "id-1", values: values), as: UTF8.self)
        #expect(text == "haven record v1\0resource\0id-1\0{\"a\":[\"q\\\"\\\\\\u0001\",null,true,1.5],\"b\":2,\"한\":{\"y\":\"서울\",\"z\":-3}}")
        // Plain text on both sides of each escape is kept as it is.
        #expect(String(decoding: CanonicalRecord.json(.string("a\"bc\nd 서")), as: UTF8.self) == "\"a\\\"bc\\u000ad 서\"")
        // A whole number is the same whether it arrived as 2 or 2.0.
        #expect(CanonicalRecord.json(.double(2)) == CanonicalRecord.json(.int(2)))
    }
}
