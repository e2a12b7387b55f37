import HavenCore
import Testing

/// The rules of `ImportStep`: what importing one pack record does to the record here.
struct PackImportStepTests {
    static let id = "11111111-2222-4333-8444-555555555555"
    static let replica = ReplicaID("abc")!

    private func stamp(_ physical: UInt64) -> Timestamp { Timestamp(physical: physical, counter: 0, replica: Self.replica) }

    /// A story here whose every register was written at `physical`.
    private func here(_ title: String, at physical: UInt64, deleted: Bool = false) -> RecordState {
        RecordState(
            id: Self.id, kind: .story,
            fields: ["title": Register(.string(title), stamp: stamp(physical)), "body": Register("B", stamp: stamp(physical)), "language": Register("en", stamp: stamp(physical))],
            deleted: deleted ? Register(true, stamp: stamp(physical)) : nil)
    }

    private func record(_ title: String, version: Timestamp? = nil) -> ContentPack.Record {
        ContentPack.Record(id: Self.id, kind: .story, fields: ["title": .string(title), "body": "B", "language": "en"], version: version)
    }

    private let titleChange = [FieldChange(field: "title", old: "Here", new: "Pack")]

    @Test func aNewRecordIsAddedWithoutItsNulls() throws {
        var pack = record("Pack")
        pack.fields["summary"] = .null
        #expect(try ContentPack(records: []).step(for: pack, current: nil, overwrite: false) == .add(["title": "Pack", "body": "B", "language": "en"]))
    }

    @Test func theSameValuesAreUnchangedWhateverTheDates() throws {
        #expect(try ContentPack(records: []).step(for: record("Here"), current: here("Here", at: 5_000), overwrite: false) == .unchanged)
    }

    @Test func anExportedRecordUpdatesUnlessChangedSince() throws {
        let pack = ContentPack(records: [])
        // Exported at the very stamp the record still has: the pack's value is newer
        #expect(try pack.step(for: record("Pack", version: stamp(5_000)), current: here("Here", at: 5_000), overwrite: false) == .update(titleChange))
        // Changed after the export: skipped, unless overwriting
        #expect(
            try pack.step(for: record("Pack", version: stamp(4_000)), current: here("Here", at: 5_000), overwrite: false)
                == .skipped(.changedSinceExport(stamp(5_000)), titleChange))
        #expect(try pack.step(for: record("Pack", version: stamp(4_000)), current: here("Here", at: 5_000), overwrite: true) == .update(titleChange))
    }

    @Test func aDatedPackUpdatesWhatWasNotChangedSinceItsDate() throws {
        let dated = ContentPack(records: [], date: "1970-01-01T00:00:10Z")  // 10,000 ms
        #expect(try dated.step(for: record("Pack"), current: here("Here", at: 9_999), overwrite: false) == .update(titleChange))
        #expect(
            try dated.step(for: record("Pack"), current: here("Here", at: 10_000), overwrite: false)
                == .skipped(.changedSinceDate(stamp(10_000)), titleChange))
    }

    @Test func anUndatedPackSkipsWhatIsHereUnlessOverwriting() throws {
        let undated = ContentPack(records: [])
        #expect(try undated.step(for: record("Pack"), current: here("Here", at: 1), overwrite: false) == .skipped(.packUndated, titleChange))
        #expect(try undated.step(for: record("Pack"), current: here("Here", at: 1), overwrite: true) == .update(titleChange))
    }

    @Test func aDeletedRecordStaysDeleted() throws {
        #expect(try ContentPack(records: []).step(for: record("Pack"), current: here("Here", at: 1, deleted: true), overwrite: true) == .keptDeleted)
    }

    @Test func anotherKindOrABadValueIsRefused() {
        let resource = ContentPack.Record(id: Self.id, kind: .resource, fields: ["name": "N", "category": "legal", "country": "KR"])
        #expect(throws: ValidationError.self) { try ContentPack(records: []).step(for: resource, current: here("Here", at: 1), overwrite: true) }
        var bad = record("Pack")
        bad.fields["language"] = "english"
        #expect(throws: ValidationError.self) { try ContentPack(records: []).step(for: bad, current: here("Here", at: 1), overwrite: true) }
    }
}
