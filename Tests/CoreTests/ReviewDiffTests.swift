import HavenCore
import Testing

/// What `haven review show` compares: the record now against its last published version,
/// replayed from the history.
struct ReviewDiffTests {
    private static let id = "abcd1111-0000-4000-8000-000000000001"

    private static func entry(_ seq: Int64, _ fields: [String: JSONValue]) -> RecordHistory.Entry {
        RecordHistory.Entry(
            seq: seq, author: "a", receivedAt: UInt64(seq),
            fields: fields.sorted { $0.key < $1.key }.map { RecordHistory.Field(name: $0.key, old: nil, new: $0.value) },
            outdated: [])
    }

    @Test func comparesWithTheLastPublishedVersion() {
        // Given a resource published twice, then edited (back to draft) and submitted
        let entries = [
            Self.entry(1, ["name": "Hotline", "phone": "1577 0000", "status": "draft"]),
            Self.entry(2, ["status": "review"]),
            Self.entry(3, ["status": "published", "reviewComment": "ok"]),
            Self.entry(4, ["hours": "9-18", "status": "draft"]),
            Self.entry(5, ["status": "review"]),
            Self.entry(6, ["status": "published"]),
            Self.entry(7, ["phone": "1577 1111", "hours": .null, "url": "https://example.org", "status": "draft"]),
            Self.entry(8, ["status": "review", "reviewComment": "new number"]),
        ]
        let history = RecordHistory(id: Self.id, kind: .resource, entries: entries.reversed(), compactedBefore: nil)

        // When it is compared
        let diff = ReviewDiff(history)

        // Then the published version is change 6's, and each content field that differs is listed
        #expect(diff.publishedSeq == 6)
        #expect(
            diff.fields == [
                .init(name: "hours", published: "9-18", now: nil),
                .init(name: "phone", published: "1577 0000", now: "1577 1111"),
                .init(name: "url", published: nil, now: "https://example.org"),
            ])
    }

    @Test func aRecordNeverPublishedIsComparedWithNothing() {
        let history = RecordHistory(
            id: Self.id, kind: .story, entries: [Self.entry(2, ["status": "review"]), Self.entry(1, ["title": "T"])],
            compactedBefore: 5)
        let diff = ReviewDiff(history)
        #expect(diff.publishedSeq == nil)
        #expect(diff.fields == [.init(name: "title", published: nil, now: "T")])
        #expect(diff.compactedBefore == 5)
    }
}
