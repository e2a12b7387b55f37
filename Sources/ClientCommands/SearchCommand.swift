import ArgumentParser
import Foundation
import HavenClient
import HavenCore

/// `haven search QUERY`: visible stories and resources that contain every word, best first.
struct SearchCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "search",
            abstract: Words(
                "Find stories and resources by words in their titles, summaries and bodies.",
                korean: "제목, 요약, 본문에 든 말로 이야기와 지원 정보를 찾습니다.").text,
            discussion: Words(
                """
                Every word must appear; "double quotes" keep words together. Words of any length and \
                script work, Korean and Chinese included: a title match ranks above a body match.
                """,
                korean: """
                모든 말이 들어 있어야 합니다. "큰따옴표"로 묶은 말은 붙어 있어야 합니다. 길이나 문자에 관계없이 \
                어떤 말이든 찾을 수 있고, 한국어와 중국어도 됩니다: 제목에서 찾은 것이 본문에서 찾은 것보다 앞에 옵니다.
                """).text)
    }

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: ArgumentHelp(Words("The words to find.", korean: "찾을 말."))) var query: [String]
    @Option(help: ArgumentHelp(Words("Only story or resource.", korean: "story 또는 resource만."))) var kind: RecordKind?
    @Option(
        help: ArgumentHelp(
            Words(
                "Only this language, such as ko (a story's language, or one of a resource's).",
                korean: "이 언어의 기록만 (예: ko. 이야기의 언어, 또는 지원 정보의 언어 중 하나)."),
            valueName: "tag"))
    var language: String?
    @Option(help: ArgumentHelp(Words("At most this many results.", korean: "결과를 최대 이만큼만 보여 줍니다."))) var limit: Int = 20
    @Flag(help: ArgumentHelp(.printJSONHelp)) var json = false

    var searchQuery: SearchQuery {
        SearchQuery(query.joined(separator: " "), kind: kind, language: language, limit: limit)
    }

    func validate() throws {
        guard !searchQuery.terms.isEmpty else {
            throw OptionProblem.refusal(Words("give at least one word to search for", korean: "찾을 말을 하나 이상 주세요"))
        }
        guard (1...1000).contains(limit) else { throw OptionProblem.outOfRange("--limit", 1...1000) }
        if let language, !RecordSchema.isLanguageTag(language) {
            throw OptionProblem.notLanguageTag
        }
    }

    func run() throws {
        let opened = try replica.open()
        let unverified = try opened.unverifiedIDs()
        let results = try opened.search(searchQuery).map { result in
            var result = result
            if unverified.contains(result.id) { result.unverified = true }
            return result
        }
        try show(results)
        try buildDeferredIndex(opened)
    }

    private func show(_ results: [SearchResult]) throws {
        if json { return try printJSON(results) }
        let words = query.joined(separator: " ")
        if results.isEmpty { return print(Words("no matches for \(words)", korean: "찾는 말과 맞는 기록이 없습니다: \(words)")) }
        let languages = results.map { $0.languages.isEmpty ? "-" : $0.languages.joined(separator: ",") }
        let columns = [results.map(\.kind.rawValue), results.map { $0.status ?? "-" }, languages]
        let widths = columns.map { $0.map(\.count).max() ?? 0 }
        for (index, result) in results.enumerated() {
            let cells = zip(columns, widths).map { $0.0[index].padding(toLength: $0.1, withPad: " ", startingAt: 0) }
            let mark = result.unverified == true ? [UnverifiedNote.mark.text] : []
            print(([result.id] + cells + [result.title] + mark).joined(separator: "  "))
            if !result.snippet.isEmpty { print("    \(result.snippet)") }
        }
        if let note = UnverifiedNote.sentence(count: results.filter { $0.unverified == true }.count) { print(note) }
    }

    /// After a download of everything, the first search is answered by reading the text (the
    /// same results, found without the index); the index is built once the answer is out, so
    /// that later searches use it.
    private func buildDeferredIndex(_ opened: Replica) throws {
        guard try opened.isSearchIndexDeferred() else { return }
        fflush(nil)  // The answer is out before the wait.
        let note = Words(
            "building the search index after the last full download, for quicker searches…",
            korean: "마지막으로 모두 내려받은 뒤라 더 빠른 검색을 위해 검색 색인을 만드는 중입니다…")
        FileHandle.standardError.write(Data("\(note)\n".utf8))
        let started = Date()
        let count = try opened.buildDeferredSearchIndex()
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        let done = Words("indexed \(count) records in \(seconds) s", korean: "기록 \(count)개의 색인을 \(seconds)초 만에 만들었습니다")
        FileHandle.standardError.write(Data("\(done)\n".utf8))
    }
}

extension RecordKind: ExpressibleByArgument {}
