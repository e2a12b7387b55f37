import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// The options of `stories list` and `resources list` that choose and order records.
struct ListFilterOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            Words(
                "Only draft, review or published records.",
                korean: "이 상태(draft, review, published)의 기록만.")))
    var status: String?
    @Option(
        help: ArgumentHelp(
            Words(
                "Only this language, such as ko (zh also finds zh-Hant).",
                korean: "이 언어의 기록만 (예: ko. zh는 zh-Hant도 찾습니다)."), valueName: "tag"))
    var language: String?
    @Option(
        help: ArgumentHelp(
            Words(
                "Only this region, such as Seoul (any case).",
                korean: "이 지역의 기록만 (예: Seoul. 대소문자 무관).")))
    var region: String?
    @Option(help: ArgumentHelp(Words("Only this category (resources).", korean: "이 분류의 기록만 (지원 정보).")))
    var category: String?
    @Option(
        help: ArgumentHelp(
            Words(
                "Only records changed since this date (YYYY-MM-DD) or time (ISO 8601).",
                korean: "이 날짜(YYYY-MM-DD)나 시각(ISO 8601) 이후에 바뀐 기록만."), valueName: "date"))
    var since: String?
    @Option(
        help: ArgumentHelp(
            Words(
                "Order: id, title, updated (newest first) or status.",
                korean: "순서: id, title, updated (최근 것부터) 또는 status."), valueName: "order"))
    var sort = "id"
    @Option(help: ArgumentHelp(Words("Show at most this many.", korean: "최대 이만큼만 보여 줍니다."))) var limit: Int?

    func check(for kind: RecordKind) throws {
        if let status, !RecordSchema.statuses.contains(status) {
            throw OptionProblem.notOneOf("--status", RecordSchema.statuses)
        }
        if let category {
            guard kind == .resource else {
                throw OptionProblem.refusal(
                    Words(
                        "--category is for resources; stories have none",
                        korean: "--category는 지원 정보(resources)에만 씁니다: 이야기에는 분류가 없습니다"))
            }
            guard RecordSchema.categories.contains(category) else {
                throw OptionProblem.notOneOf("--category", RecordSchema.categories)
            }
        }
        if let language, !RecordSchema.isLanguageTag(language) {
            throw OptionProblem.notLanguageTag
        }
        if let since, ContentPack.milliseconds(ofDate: since) == nil {
            throw OptionProblem.refusal(
                Words(
                    "--since must be a date such as 2026-12-01 or a time such as 2026-12-01T09:30:00Z",
                    korean: "--since: 2026-12-01 같은 날짜나 2026-12-01T09:30:00Z 같은 시각을 주세요"))
        }
        guard RecordFilter.Sort(rawValue: sort) != nil else {
            throw OptionProblem.notOneOf("--sort", RecordFilter.Sort.allCases.map(\.rawValue))
        }
        if let limit, limit < 1 { throw OptionProblem.below("--limit", 1) }
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
