import ArgumentParser
import Foundation
import HavenCore

/// The options of `stories list` and `resources list` that choose and order records.
struct ListFilterOptions: ParsableArguments {
    @Option(help: "Only draft, review or published records.") var status: String?
    @Option(help: ArgumentHelp("Only this language, such as ko (zh also finds zh-Hant).", valueName: "tag")) var language: String?
    @Option(help: "Only this region, such as Seoul (any case).") var region: String?
    @Option(help: "Only this category (resources).") var category: String?
    @Option(help: ArgumentHelp("Only records changed since this date (YYYY-MM-DD) or time (ISO 8601).", valueName: "date"))
    var since: String?
    @Option(help: ArgumentHelp("Order: id, title, updated (newest first) or status.", valueName: "order")) var sort = "id"
    @Option(help: "Show at most this many.") var limit: Int?

    func check(for kind: RecordKind) throws {
        if let status, !RecordSchema.statuses.contains(status) {
            throw ValidationError("--status must be one of \(RecordSchema.statuses.joined(separator: ", "))")
        }
        if let category {
            guard kind == .resource else { throw ValidationError("--category is for resources; stories have none") }
            guard RecordSchema.categories.contains(category) else {
                throw ValidationError("--category must be one of \(RecordSchema.categories.joined(separator: ", "))")
            }
        }
        if let language, !RecordSchema.isLanguageTag(language) {
            throw ValidationError("--language must be a language tag such as en, ko or zh-Hant")
        }
        if let since, ContentPack.milliseconds(ofDate: since) == nil {
            throw ValidationError("--since must be a date such as 2026-12-01 or a time such as 2026-12-01T09:30:00Z")
        }
        guard RecordFilter.Sort(rawValue: sort) != nil else {
            throw ValidationError("--sort must be one of \(RecordFilter.Sort.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be 1 or more") }
    }

    var recordFilter: RecordFilter {
        var filter = RecordFilter()
        filter.status = status
        filter.language = language
        filter.region = region
        filter.category = category
        filter.changedSince = since.flatMap(ContentPack.milliseconds(ofDate:))
        filter.sort = RecordFilter.Sort(rawValue: sort) ?? .id
        filter.limit = limit
        return filter
    }

    /// How many of `records` pass the filter, whatever the limit.
    func matching(_ records: [RecordState]) -> Int {
        var filter = recordFilter
        filter.limit = nil
        return filter.apply(records).count
    }
}
