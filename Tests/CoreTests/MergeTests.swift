import HavenCore
import PropertyBased
import Testing

struct MergeTests {
    private static let names = ["title", "body", "tags", "x_extra"]

    /// A stamp from a small space, so that registers often compete for the same field.
    private static let stamps = zip(
        Gen.uint64(in: 1...6), Gen.uint16(in: 0...2), Gen<Character?>.element(of: Array("abc")).map { $0! }
    ).map { physical, counter, replica in stamp(physical, counter, String(replica)) }

    /// The value a write with `stamp` carries: a function of the stamp, so equal stamps mean identical registers.
    private static func value(of stamp: Timestamp) -> JSONValue {
        switch (stamp.physical + UInt64(stamp.counter)) % 3 {
        case 0: .string(stamp.description)
        case 1: .array([.string(stamp.replica.rawValue), .int(Int64(stamp.physical))])
        default: .object(["at": .string(stamp.description), "n": .int(Int64(stamp.counter))])
        }
    }

    private static let field = zip(Gen<String?>.element(of: names).map { $0! }, stamps).map { name, stamp in
        (name, Register(value(of: stamp), stamp: stamp))
    }
    private static let flag = stamps.map { stamp in Register(.bool(stamp.physical % 2 == 0), stamp: stamp) }

    /// A random state (or delta) of the one record every state here describes.
    static let states = zip(field.array(of: 0...6), flag.optional).map { fields, deleted in
        RecordState(
            id: storyID, kind: .story, fields: Dictionary(fields, uniquingKeysWith: { first, _ in first }),
            deleted: deleted)
    }

    @Test func mergeIsCommutative() async {
        await propertyCheck(count: 500, input: Self.states, Self.states) { a, b in
            #expect(a.merged(with: b) == b.merged(with: a))
        }
    }

    @Test func mergeIsAssociative() async {
        await propertyCheck(count: 500, input: Self.states, Self.states, Self.states) { a, b, c in
            #expect(a.merged(with: b).merged(with: c) == a.merged(with: b.merged(with: c)))
        }
    }

    @Test func mergeIsIdempotent() async {
        await propertyCheck(count: 300, input: Self.states, Self.states) { a, b in
            #expect(a.merged(with: a) == a)
            let once = a.merged(with: b)
            #expect(once.merged(with: b) == once)
            #expect(once.merged(with: a) == once)
        }
    }

    @Test func everyArrivalOrderGivesTheSameState() async {
        await propertyCheck(count: 200, input: Self.states.array(of: 1...8), Gen.int(in: 0...7)) { states, rotation in
            // Given one history delivered forwards, backwards and rotated
            let empty = RecordState(id: storyID, kind: .story)
            let k = rotation % states.count
            let orders = [states, states.reversed(), Array(states[k...] + states[..<k])]

            // When each replica merges in its own order
            let results = orders.map { $0.reduce(empty) { $0.merged(with: $1) } }

            // Then
            #expect(results.allSatisfy { $0 == results[0] })
        }
    }

    @Test func mergeKeepsTheRegisterWithTheLargerStampFieldByField() async {
        await propertyCheck(count: 300, input: Self.states, Self.states) { a, b in
            let merged = a.merged(with: b)

            #expect(Set(merged.fields.keys) == Set(a.fields.keys).union(b.fields.keys))
            for (name, register) in merged.fields {
                let candidates = [a.fields[name], b.fields[name]].compactMap { $0 }
                #expect(register.stamp == candidates.map(\.stamp).max())
                #expect(register.value == Self.value(of: register.stamp))
            }
            #expect(merged.deleted?.stamp == [a.deleted, b.deleted].compactMap { $0?.stamp }.max())
        }
    }

    @Test func mergeReportsExactlyTheRegistersItChanged() async {
        await propertyCheck(count: 300, input: Self.states, Self.states) { a, b in
            var merged = a
            let changed = merged.merge(b)

            var expected = Set(Self.names.filter { merged.fields[$0] != a.fields[$0] })
            if merged.deleted != a.deleted { expected.insert("deleted") }
            #expect(changed == expected)
        }
    }

    @Test func latestStampIsTheLargestOfAllRegisters() {
        let state = RecordState(
            id: storyID, kind: .story,
            fields: ["title": Register("t", stamp: stamp(5, 0, "a")), "body": Register("b", stamp: stamp(3, 0, "b"))],
            deleted: Register(true, stamp: stamp(5, 1, "a")))

        #expect(state.latestStamp == stamp(5, 1, "a"))
        #expect(RecordState(id: storyID, kind: .story).latestStamp == nil)
    }

    @Test func deleteIsStickyAgainstALaterEdit() {
        // Given a story, its deletion, and an offline edit stamped after the deletion
        let created = storyEdit(["title": "Hotlines", "body": "Call"], at: stamp(10, 0, "a"))
        let deletion = storyFlag(deleted: true, at: stamp(20, 0, "b"))
        let lateEdit = storyEdit(["title": "Hotlines (updated)"], at: stamp(30, 0, "c"))

        // When they merge in either order
        let forwards = created.merged(with: deletion).merged(with: lateEdit)
        let backwards = lateEdit.merged(with: deletion).merged(with: created)

        // Then the record stays deleted, carrying the edit invisibly
        #expect(forwards == backwards)
        #expect(forwards.isDeleted)
        #expect(forwards.values["title"] == "Hotlines (updated)")
    }

    @Test func restoreWithALargerStampBringsTheRecordBack() {
        let deleted = storyEdit(["title": "Shelters"], at: stamp(10, 0, "a")).merged(
            with: storyFlag(deleted: true, at: stamp(20, 0, "b")))

        let restored = deleted.merged(with: storyFlag(deleted: false, at: stamp(30, 0, "c")))

        #expect(!restored.isDeleted)
        #expect(restored.values == ["title": "Shelters"])
    }

    @Test func restoreWithASmallerStampLosesToTheDelete() {
        let deleted = storyFlag(deleted: true, at: stamp(20, 0, "b"))

        let stale = deleted.merged(with: storyFlag(deleted: false, at: stamp(15, 0, "c")))

        #expect(stale.isDeleted)
        #expect(storyFlag(deleted: false, at: stamp(15, 0, "c")).merged(with: deleted).isDeleted)
    }

    @Test func aNeverDeletedRecordIsNotDeleted() {
        #expect(!storyEdit(["title": "x"], at: stamp(1, 0, "a")).isDeleted)
    }

    @Test func unknownFieldsMergeLikeKnownOnes() {
        let a = storyEdit(["x_future": .object(["k": 1])], at: stamp(1, 0, "a"))
        let b = storyEdit(["x_future": .object(["k": 2])], at: stamp(2, 0, "b"))

        #expect(a.merged(with: b).values == ["x_future": .object(["k": 2])])
        #expect(b.merged(with: a).values == ["x_future": .object(["k": 2])])
    }

    @Test func registerWinnerPrefersTheLargerStampAndAnyRegisterOverNone() {
        let older = Register("old", stamp: stamp(1, 0, "z"))
        let newer = Register("new", stamp: stamp(1, 1, "a"))

        #expect(Register.winner(older, newer) == newer)
        #expect(Register.winner(newer, older) == newer)
        #expect(Register.winner(nil, older) == older)
        #expect(Register.winner(older, nil) == older)
        #expect(Register.winner(nil, nil) == nil)
    }
}
