import ArgumentParser
import Foundation
import HavenCore

/// `haven search QUERY`: visible stories and resources that contain every word, best first.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Find stories and resources by words in their titles, summaries and bodies.",
        discussion: """
            Every word must appear; "double quotes" keep words together. Words of any length and \
            script work, Korean and Chinese included: a title match ranks above a body match.
            """)

    @OptionGroup var replica: ReplicaOptions
    @Argument(help: "The words to find.") var query: [String]
    @Option(help: "Only story or resource.") var kind: RecordKind?
    @Option(
        help: ArgumentHelp(
            "Only this language, such as ko (a story's language, or one of a resource's).", valueName: "tag"))
    var language: String?
    @Option(help: "At most this many results.") var limit: Int = 20
    @Flag(help: "Print JSON.") var json = false

    var searchQuery: SearchQuery {
        SearchQuery(query.joined(separator: " "), kind: kind, language: language, limit: limit)
    }

    func validate() throws {
        guard !searchQuery.terms.isEmpty else { throw ValidationError("give at least one word to search for") }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
        if let language, !RecordSchema.isLanguageTag(language) {
            throw ValidationError("--language must be a language tag such as en, ko or zh-Hant")
        }
    }

    func run() throws {
        let opened = try replica.open()
        if try opened.isSearchIndexDeferred() {
            // Once after a download of everything; seconds for tens of thousands of records.
            let note = Words(
                "building the search index after the last full download…",
                korean: "마지막으로 모두 내려받은 뒤라 검색 색인을 만드는 중입니다…")
            FileHandle.standardError.write(Data("\(note)\n".utf8))
            let started = Date()
            let count = try opened.buildDeferredSearchIndex()
            FileHandle.standardError.write(
                Data("indexed \(count) records in \(String(format: "%.1f", Date().timeIntervalSince(started))) s\n".utf8))
        }
        let unverified = try opened.unverifiedIDs()
        let results = try opened.search(searchQuery).map { result in
            var result = result
            if unverified.contains(result.id) { result.unverified = true }
            return result
        }
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
}

extension RecordKind: ExpressibleByArgument {}
