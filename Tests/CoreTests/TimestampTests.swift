import Foundation
import HavenCore
import PropertyBased
import Testing

struct TimestampTests {
    /// Physical times that often tie (so counters and replicas decide) and sometimes span all 48 bits.
    private static let physical = zip(Gen.bool, Gen.uint64(in: 0...3), Gen.uint64(in: 0...Timestamp.maxPhysical))
        .map { small, tiny, any in small ? tiny : any }
    private static let counter = zip(Gen.bool, Gen.uint16(in: 0...2), Gen.uint16())
        .map { small, tiny, any in small ? tiny : any }
    /// Replica ids from a few characters chosen to exercise digit-versus-letter ordering.
    private static func replica(length: ClosedRange<Int>) -> Generator<ReplicaID, some SendableSequenceType> {
        Gen<Character?>.element(of: Array("09afz")).map { $0! }.string(of: length).map { ReplicaID($0)! }
    }
    private static func stamps(replicaLength: ClosedRange<Int>) -> Generator<Timestamp, some SendableSequenceType> {
        zip(physical, counter, replica(length: replicaLength)).map { physical, counter, replica in
            Timestamp(physical: physical, counter: counter, replica: replica)
        }
    }

    @Test func writesTwelveHexDigitsOfTimeFourOfCounterThenTheReplica() {
        let stamp = Timestamp(physical: 0x0193_a1b2_c3d4, counter: 0x2a, replica: ReplicaID("a1b2c3d4e5f60718")!)
        #expect(stamp.description == "0193a1b2c3d4-002a-a1b2c3d4e5f60718")
        #expect(Timestamp(physical: 0, counter: 0, replica: ReplicaID("z")!).description == "000000000000-0000-z")
        #expect(
            Timestamp(physical: Timestamp.maxPhysical, counter: .max, replica: ReplicaID("0")!).description
                == "ffffffffffff-ffff-0")
    }

    @Test func stringFormRoundTrips() async {
        await propertyCheck(count: 300, input: Self.stamps(replicaLength: 1...32)) { stamp in
            #expect(Timestamp(stamp.description) == stamp)
        }
    }

    @Test func stringFormSortsLikeTheStampsWhenReplicaIDsHaveEqualLength() async {
        await propertyCheck(count: 500, input: Self.stamps(replicaLength: 2...2), Self.stamps(replicaLength: 2...2)) {
            a, b in
            #expect((a < b) == (a.description < b.description))
            #expect((a == b) == (a.description == b.description))
        }
    }

    @Test func stringFormSortsLikeTheStampsForReplicaIDsOfAnyLength() async {
        // Stamps compare replica ids as strings, so a shorter id that is a prefix sorts first in both forms.
        await propertyCheck(count: 500, input: Self.stamps(replicaLength: 1...3), Self.stamps(replicaLength: 1...3)) {
            a, b in
            #expect((a < b) == (a.description < b.description))
            #expect((b < a) == (b.description < a.description))
        }
    }

    @Test func sortingStringsGivesTheOrderOfSortingStamps() async {
        await propertyCheck(count: 200, input: Self.stamps(replicaLength: 1...4).array(of: 0...20)) { stamps in
            #expect(stamps.sorted().map(\.description) == stamps.map(\.description).sorted())
        }
    }

    @Test func ordersByTimeThenCounterThenReplica() {
        #expect(stamp(1, 9, "z") < stamp(2, 0, "a"))
        #expect(stamp(1, 1, "z") < stamp(1, 2, "a"))
        #expect(stamp(1, 1, "a") < stamp(1, 1, "b"))
        #expect(stamp(1, 1, "9") < stamp(1, 1, "a"))
        #expect(!(stamp(1, 1, "a") < stamp(1, 1, "a")))
    }

    @Test(arguments: [
        "",
        "0193a1b2c3d4",
        "0193a1b2c3d4-0000",
        "0193a1b2c3d4-0000-",
        "193a1b2c3d4-0000-abc",  // eleven digits of time
        "00193a1b2c3d4-0000-abc",  // thirteen
        "0193a1b2c3d4-000-abc",  // three digits of counter
        "0193a1b2c3d4-00000-abc",  // five
        "0193A1B2C3D4-0000-abc",  // upper-case time
        "0193a1b2c3d4-00AB-abc",  // upper-case counter
        "0193a1b2c3d4-0000-ABC",  // upper-case replica
        "0193a1b2c3dg-0000-abc",  // not hex
        "+193a1b2c3d4-0000-abc",  // a sign the integer parser would take
        "0193a1b2c3d4-+000-abc",
        "0193a1b2c3d4-0000-ab-c",  // a dash in the replica id
        "0193a1b2c3d4-0000-ab c",
        "0193a1b2c3d4-0000-é",
        "0193a1b2c3d4-0000-" + String(repeating: "a", count: 33),  // replica id too long
        " 0193a1b2c3d4-0000-abc",
        "0193a1b2c3d4-0000-abc ",
        "0193a1b2c3d4_0000_abc",
        "\u{FF10}193a1b2c3d4-0000-abc",  // a full-width zero
    ])
    func parsingRejectsMalformedStrings(_ text: String) {
        #expect(Timestamp(text) == nil)
    }

    @Test func decodingJSONRejectsMalformedStringsAndNamesTheExpectedForm() throws {
        // Given a stamp that is not one
        let json = Data(#"["0193a1b2c3d4-0000"]"#.utf8)

        // When it is decoded, Then the error says what a stamp looks like
        let error = #expect(throws: DecodingError.self) { try JSONDecoder().decode([Timestamp].self, from: json) }
        #expect(describe(try #require(error)).contains("expected 12 hex-4 hex-replica id"))
    }

    @Test func encodesAsItsStringForm() throws {
        let original = stamp(0x0193_a1b2_c3d4, 7, "r1")
        let data = try JSONEncoder().encode([original])
        #expect(String(decoding: data, as: UTF8.self) == #"["0193a1b2c3d4-0007-r1"]"#)
        #expect(try JSONDecoder().decode([Timestamp].self, from: data) == [original])
    }

    @Test(arguments: ["a", "0", "a1b2c3d4e5f60718", String(repeating: "z", count: 32)])
    func replicaIDsAcceptLowercaseLettersAndDigits(_ text: String) {
        #expect(ReplicaID(text)?.rawValue == text)
    }

    @Test(arguments: ["", "A", "ab-c", "ab_c", "ab c", "é", "\u{FF41}", "٣", String(repeating: "z", count: 33)])
    func replicaIDsRejectEverythingElse(_ text: String) {
        #expect(ReplicaID(text) == nil)
    }

    @Test func randomReplicaIDsAreSixteenHexDigits() {
        let ids = (0..<50).map { _ in ReplicaID.random().rawValue }
        #expect(ids.allSatisfy { $0.count == 16 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
        #expect(Set(ids).count == ids.count)
    }
}
