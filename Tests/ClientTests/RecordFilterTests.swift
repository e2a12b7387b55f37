import HavenCore
import Testing

@testable import HavenClient

/// `stories list` and `resources list` filters and orders (issue 15: 3,034 lines on a
/// 3,000-record replica was no list a person can read).
struct RecordFilterTests {
    private static let replica = ReplicaID("abc")!

    private func story(_ n: Int, title: String, status: String, language: String = "en", region: String? = nil, at physical: UInt64) -> RecordState {
        let stamp = Timestamp(physical: physical, counter: 0, replica: Self.replica)
        var fields: [String: Register] = [
            "title": Register(.string(title), stamp: stamp), "status": Register(.string(status), stamp: stamp),
            "language": Register(.string(language), stamp: stamp),
        ]
        if let region { fields["region"] = Register(.string(region), stamp: stamp) }
        return RecordState(id: "0000000\(n)-0000-4000-8000-000000000000", kind: .story, fields: fields)
    }

    private var records: [RecordState] {
        [
            story(1, title: "Crossing", status: "published", language: "ko", region: "Seoul", at: 3_000),
            story(2, title: "arrival", status: "draft", language: "zh-Hant", region: "seoul", at: 1_000),
            story(3, title: "Border", status: "review", at: 2_000),
        ]
    }

    @Test func filtersByStatusLanguageAndRegion() {
        var filter = RecordFilter()
        filter.region = "SEOUL"
        #expect(filter.apply(records).map { $0.fields["title"]?.value } == ["Crossing", "arrival"])
        filter.language = "zh"
        #expect(filter.apply(records).map { $0.fields["title"]?.value } == ["arrival"])
        filter = RecordFilter()
        filter.status = "review"
        #expect(filter.apply(records).map { $0.fields["title"]?.value } == ["Border"])
    }

    @Test func sortsAndLimits() {
        var filter = RecordFilter()
        filter.sort = .title
        #expect(filter.apply(records).map { $0.fields["title"]?.value } == ["arrival", "Border", "Crossing"])
        filter.sort = .updated
        #expect(filter.apply(records).map { $0.fields["title"]?.value } == ["Crossing", "Border", "arrival"])
        filter.sort = .status
        #expect(filter.apply(records).map { $0.fields["status"]?.value } == ["draft", "review", "published"])
        filter.limit = 1
        filter.changedSince = 1_500
        #expect(filter.apply(records).map { $0.fields["title"]?.value } == ["Border"])
    }
}
