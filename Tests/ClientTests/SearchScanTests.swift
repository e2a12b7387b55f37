import Foundation
import HavenCore
import PropertyBased
import Synchronization
import Testing
import TestSupport

@testable import HavenClient

/// Searches made while a download's index is deferred read the text (`TrigramScan`): they must
/// answer exactly what the index answers once built, results, order and scores alike.
@Suite(.temporaryDirectory)
struct SearchScanTests {
    /// Letters chosen to try the fold: ASCII and other cases (Greek final sigma, dotted and dotless
    /// i, sharp s, Cyrillic, a Kelvin sign), Korean and Chinese without case, a combining accent
    /// beside a precomposed one, U+FFFD beside U+FFFF (the tokenizer reads both as U+FFFD), spaces.
    private static let alphabet: [Character] = Array(
        "aAbBcCrR여성정착탈북中国 ΣσςİıßẞКкΩω\u{212A}ke\u{301}é\u{FFFD}\u{FFFF}  ..")

    @Test func aSearchBeforeTheIndexIsBuiltAnswersAsTheIndexDoes() async throws {
        let found = Mutex(0)
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            let results = try searchesAgree(seed: seed)
            found.withLock { $0 += results }
        }
        // Most queries find something: the property is about results, not empty lists.
        #expect(found.withLock { $0 } > 60 * 12 / 3)
    }

    /// Random stories, searched before and after their index is built; how many queries found something.
    private func searchesAgree(seed: Int) throws -> Int {
        var random = SplitMix64(seed: UInt64(seed))
        func text(_ lengths: ClosedRange<Int>) -> String {
            String((0..<Int.random(in: lengths, using: &random)).map { _ in Self.alphabet.randomElement(using: &random)! })
        }
        // Given a replica whose first download (which defers the index) brought random stories
        let replica = try makeEmptyReplica(named: "scan-\(seed).sqlite")
        var texts: [[String]] = []
        let stories = (0..<Int.random(in: 1...40, using: &random)).map { number in
            var fields = Fixtures.story(text(1...12), body: text(0...80))
            if Bool.random(using: &random) { fields["summary"] = .string(text(0...30)) }
            texts.append(["title", "summary", "body"].compactMap { fields[$0]?.stringValue })
            let id = String(format: "abcd%04x-0000-4000-8000-%012x", number, seed)
            return Fixtures.storyDelta(id, fields, at: Fixtures.stamp(Fixtures.epoch - 100_000 + UInt64(number)))
        }
        try replica.apply(Fixtures.page(stories, cursor: Fixtures.cursor(1)))
        #expect(try replica.isSearchIndexDeferred())

        // When the same queries are asked before and after the index is built: pieces of the
        // one story's text, some letters in another case, two to six letters, one to three of them
        let queries = (0..<12).map { _ in
            let story = texts.randomElement(using: &random)!
            let terms = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                let source = Array(story.randomElement(using: &random)!)
                let length = Int.random(in: 2...6, using: &random)
                let start = Int.random(in: 0...max(0, source.count - length), using: &random)
                let piece = source[start..<min(source.count, start + length)].map { letter in
                    switch Int.random(in: 0..<8, using: &random) {
                case 0: String(letter).uppercased()
                case 1: String(letter).lowercased()
                default: String(letter)
                }
                }
                return "\"" + piece.joined().replacingOccurrences(of: "\"", with: "") + "\""
            }
            let kind: RecordKind? = Int.random(in: 0..<4, using: &random) == 0 ? .resource : nil
            return SearchQuery(terms.joined(separator: " "), kind: kind, limit: Int.random(in: 1...8, using: &random))
        }
        let before = try queries.map { try replica.search($0) }
        #expect(try replica.buildDeferredSearchIndex() == stories.count)
        let after = try queries.map { try replica.search($0) }

        // Then the answers are the same, scores to the last bit
        for (query, (scanned, indexed)) in zip(queries, zip(before, after)) {
            #expect(scanned == indexed, "\(query.text)")
        }
        return before.filter { !$0.isEmpty }.count
    }

    @Test func foldingTextAsBytesFoldsEveryCharacterAsTheTokenizerDoes() {
        // Given every character but NUL, as UTF-8 text
        let scalars = (1...0x10FFFF).compactMap(Unicode.Scalar.init)
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars)

        // When the scan folds it as bytes
        var folded: [UInt8] = []
        let characters = Array(String(text).utf8).withUnsafeBytes { TrigramScan.fold($0, into: &folded) }

        // Then each character became what TrigramFold makes of it, and they are all counted
        var expected = String.UnicodeScalarView()
        expected.append(contentsOf: scalars.map { Unicode.Scalar(TrigramFold.fold($0.value))! })
        #expect(characters == scalars.count)
        #expect(folded == Array(String(expected).utf8))

        // And the tokenizer's end at a NUL is the scan's
        let cut = Array("Ab\u{0}CD".utf8).withUnsafeBytes { TrigramScan.fold($0, into: &folded) }
        #expect(cut == 2 && folded == Array("ab".utf8))

        // And overlapping occurrences each count, as the index's phrase matches do
        #expect(TrigramScan.occurrences(of: Array("aaa".utf8), in: Array("aaaaa".utf8)) == 3)
        #expect(TrigramScan.occurrences(of: Array("여성".utf8), in: Array("여성 여성여성".utf8)) == 3)
    }

    @Test func theScanFindsWhatTheQueriesAskFor() throws {
        // Given stories in a deferred index, one naming a word in its title and one in its body
        let replica = try makeEmptyReplica()
        let s = { (offset: UInt64) in Fixtures.stamp(Fixtures.epoch - 100_000 + offset) }
        try replica.apply(
            Fixtures.page(
                [
                    Fixtures.storyDelta(RecordIDs.first, Fixtures.story("탈북 여성의 정착", body: "서울에서"), at: s(1)),
                    Fixtures.storyDelta(RecordIDs.second, Fixtures.story("Market day", body: "정착 지원 센터, 정착"), at: s(2)),
                    Fixtures.storyDelta(RecordIDs.third, Fixtures.story("Crossing", body: "the river"), at: s(3)),
                ], cursor: Fixtures.cursor(1)))

        // When it is searched before the index is built
        let found = try replica.search(SearchQuery("정착"))
        let ranked = try replica.search(SearchQuery("여성의 정착"))
        let phrase = try replica.search(SearchQuery("\"정착 지원\""))

        // Then the scan finds them, the title's match first, and leaves the index to be built
        #expect(found.map(\.id) == [RecordIDs.first, RecordIDs.second])
        #expect(ranked.map(\.id) == [RecordIDs.first])
        #expect(phrase.map(\.id) == [RecordIDs.second])
        #expect(try replica.search(SearchQuery("river crossing")).map(\.id) == [RecordIDs.third])
        #expect(try replica.search(SearchQuery("nowhere")).isEmpty)
        #expect(try replica.isSearchIndexDeferred())
    }
}
