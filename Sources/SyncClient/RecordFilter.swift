import HavenCore

/// Which records `stories list` and `resources list` show, and in which order.
public struct RecordFilter: Sendable, Hashable {
    /// `draft`, `review` or `published`.
    public var status: String?
    /// A story's language or one of a resource's; `zh` also finds `zh-Hant`, as search does.
    public var language: String?
    /// Compared without regard to case.
    public var region: String?
    /// A resource's category.
    public var category: String?
    /// Only records changed at or after this time, milliseconds since 1970.
    public var changedSince: UInt64?
    /// How the records are ordered.
    public var sort: Sort = .id
    /// At most this many, after sorting.
    public var limit: Int?

    /// An order of records.
    public enum Sort: String, Sendable, CaseIterable {
        /// By id: stable, the order of earlier versions.
        case id
        /// By title (a resource's name), then id.
        case title
        /// Most recently changed first.
        case updated
        /// Drafts, then records under review, then published ones; by title within each.
        case status
    }

    /// A filter that passes every record, by id.
    public init() {}

    /// The records that pass, sorted, at most ``limit`` of them.
    public func apply(_ records: [RecordState]) -> [RecordState] {
        let kept = records.filter(matches)
        let sorted: [RecordState]
        switch sort {
        case .id: sorted = kept.sorted { $0.id < $1.id }
        case .title: sorted = kept.sorted { (Self.title($0), $0.id) < (Self.title($1), $1.id) }
        case .updated: sorted = kept.sorted { ($0.latestStamp?.description ?? "", $1.id) > ($1.latestStamp?.description ?? "", $0.id) }
        case .status: sorted = kept.sorted { (Self.statusRank($0), Self.title($0), $0.id) < (Self.statusRank($1), Self.title($1), $1.id) }
        }
        return limit.map { Array(sorted.prefix($0)) } ?? sorted
    }

    func matches(_ record: RecordState) -> Bool {
        func text(_ field: String) -> String? { record.fields[field]?.value.stringValue }
        if let status, text("status") != status { return false }
        if let region, text("region")?.lowercased() != region.lowercased() { return false }
        if let category, text("category") != category { return false }
        if let language {
            let languages = [text("language")].compactMap { $0 } + (record.fields["languages"]?.value.stringArrayValue ?? [])
            guard languages.contains(where: { Self.language($0, matches: language) }) else { return false }
        }
        if let changedSince, (record.latestStamp?.physical ?? 0) < changedSince { return false }
        return true
    }

    /// Whether `tag` is `wanted` or one of its subtags (`zh-Hant` for `zh`), without regard to case.
    static func language(_ tag: String, matches wanted: String) -> Bool {
        let tag = tag.lowercased(), wanted = wanted.lowercased()
        return tag == wanted || tag.hasPrefix(wanted + "-")
    }

    private static func title(_ record: RecordState) -> String {
        (record.fields["title"] ?? record.fields["name"])?.value.stringValue?.lowercased() ?? ""
    }

    private static func statusRank(_ record: RecordState) -> Int {
        record.fields["status"]?.value.stringValue.flatMap { RecordSchema.statuses.firstIndex(of: $0) } ?? -1
    }
}
