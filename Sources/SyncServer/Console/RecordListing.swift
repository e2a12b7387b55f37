import Foundation
import HavenCore
import Hummingbird
import HummingbirdCore

/// The records a console list shows: those a caller may see (``Visibility``, the rule a pull
/// follows), narrowed by the list's search and filters.
struct RecordListing: Sendable {
    /// Words to find (``SearchTerms``); empty for every record.
    var query = ""
    var kind: RecordKind?
    /// A status, or `deleted` for deleted records (editors and admins only see those).
    var status: String?
    /// A story's language, or one of a resource's (`zh` finds `zh-Hant`).
    var language: String?
    var region: String?
    var category: String?

    /// The statuses a list filters by: the schema's, and deleted records.
    static let statuses = RecordSchema.statuses + ["deleted"]

    /// The filters of a list's query string; unknown values are ignored.
    init(_ query: FlatDictionary<Substring, Substring>) {
        func value(_ name: String) -> String? {
            query[Substring(name)].map { String($0).trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        self.query = value("q") ?? ""
        kind = value("kind").flatMap(RecordKind.init(rawValue:))
        status = value("status").flatMap { Self.statuses.contains($0) ? $0 : nil }
        language = value("language")
        region = value("region")
        category = value("category").flatMap { RecordSchema.categories.contains($0) ? $0 : nil }
    }

    init() {}

    /// Every record `caller` may see, as stored: readers and field staff never see deleted
    /// records, which a pull does not send them either.
    static func visible(to caller: Caller, in storage: any ChangeLogStorage) async throws -> [StoredRecord] {
        var records: [StoredRecord] = []
        var position: Int64 = 0
        let page = 1_000
        while true {
            let rows = try await storage.pullRows(
                after: position, limit: page, recipient: caller.tokenID, readable: nil, whole: false)
            let stored = rows.storedRecords
            records += stored.filter { stored in
                Visibility.canSee(stored, caller: caller) && (caller.role.seesEverything || !stored.record.isDeleted)
            }
            guard stored.count == page, let last = stored.last else { return records }
            position = last.record.lastSeq
        }
    }

    /// The records of `records` this listing keeps, best search match first, then by title.
    func apply(to records: [StoredRecord]) -> [TrackedRecord] {
        let terms = SearchTerms.split(query)
        let kept = records.map(\.record).compactMap { record -> (TrackedRecord, Int)? in
            let values = record.state.values
            guard matches(record, values) else { return nil }
            if terms.isEmpty { return (record, 0) }
            return SearchTerms.rank(of: values, kind: record.kind, terms: terms).map { (record, $0) }
        }
        return kept.sorted { ($0.1, Self.title(of: $1.0)) > ($1.1, Self.title(of: $0.0)) }.map(\.0)
    }

    private func matches(_ record: TrackedRecord, _ values: [String: JSONValue]) -> Bool {
        if let kind, record.kind != kind { return false }
        if status == "deleted" { if !record.isDeleted { return false } } else if let status {
            if record.isDeleted || Visibility.status(of: record) != status { return false }
        }
        if let language {
            let tags = values["language"].flatMap(\.stringValue).map { [$0] } ?? values["languages"]?.stringArrayValue ?? []
            let wanted = language.lowercased()
            guard tags.contains(where: { $0.lowercased() == wanted || $0.lowercased().hasPrefix(wanted + "-") }) else {
                return false
            }
        }
        if let region, values["region"]?.stringValue?.lowercased() != region.lowercased() { return false }
        if let category, values["category"]?.stringValue != category { return false }
        return true
    }

    /// A story's title or a resource's name, for lists and headings.
    static func title(of record: TrackedRecord) -> String {
        let field = SearchTerms.fields(of: record.kind)[0]
        return record.fields[field]?.register.value.stringValue ?? record.id
    }
}
