import Foundation
import GRDB
import HavenCore
import Testing
import TestSupport

@testable import HavenClient

/// Search results stay exactly what they were, record for record and in the same order, whatever
/// the search does to find them faster: each search is checked against the statement search ran
/// before (issue 20) and against the ranking recomputed in Swift from the records themselves.
@Suite(.temporaryDirectory)
struct SearchOrderTests {
    /// Indexed terms, short ones, case, Korean, phrases, several terms, filters and limits.
    static let queries: [SearchQuery] = {
        let texts = [
            "shelter", "SHELTER", "Shelter river", "river", "ver", "iver cro", "\"river crossing\"", "탈북", "탈북민",
            "강", "정착 지원", "하나원", "하나원 석", "여성 shelter", "a", "zz", "두만강 night", "broker", "NIGHT",
            "센터", "1999", "延边", "族",
        ]
        var queries: [SearchQuery] = []
        for text in texts {
            for limit in [1, 3, 20, 1000] { queries.append(SearchQuery(text, limit: limit)) }
            queries.append(SearchQuery(text, kind: .story))
            queries.append(SearchQuery(text, kind: .resource, limit: 50))
            queries.append(SearchQuery(text, language: "ko", limit: 50))
            queries.append(SearchQuery(text, kind: .story, language: "en"))
        }
        return queries
    }()

    @Test func resultsAreTheSameAsBeforeAfterAFirstSyncAndEditsMadeSinceThen() throws {
        // Given a replica that downloaded a few hundred records from scratch, then edited,
        // added and deleted some of them
        let replica = try makeEmptyReplica()
        var corpus = Corpus(seed: 20)
        try corpus.download(into: replica, count: 400, pageSize: 90)
        try corpus.editLocally(replica)

        // When searching before the index the download deferred is built (the text is read),
        // then after it is built
        let unindexed = try Self.queries.map { try replica.search($0) }
        #expect(try replica.isSearchIndexDeferred())
        try replica.buildDeferredSearchIndex()

        // Then the results are the same either way, those of the search before issue 20 and
        // those of the ranking recomputed from the records
        let scan = RankedScan(records: try replica.records())
        for (query, found) in zip(Self.queries, unindexed) {
            let results = try replica.search(query)
            #expect(found == results, "\(query)")
            let before = try Self.searchBeforeIssue20(replica, query)
            #expect(results.map(\.id) == before.map { $0.id }, "\(query)")
            #expect(results.map(\.score) == before.map { $0.score }, "\(query)")
            #expect(results.map(\.id) == scan.search(query), "\(query)")
        }
        #expect(try !replica.search(SearchQuery("shelter", limit: 1000)).isEmpty)
    }

    @Test func aSearchFindsAnEditMadeAfterTheSync() throws {
        // Given a replica that downloaded everything
        let replica = try makeEmptyReplica()
        var corpus = Corpus(seed: 7)
        try corpus.download(into: replica, count: 120, pageSize: 50)
        let id = try #require(try replica.records(.story).first?.id)

        // When a story is retitled and a new one added after the sync
        try replica.edit(id, values: ["title": "Quokka sighting near the river 袋鼠"])
        let added = try replica.add(.story, values: Fixtures.story("Notes", body: "A quokka at the shelter."))

        // Then both are found, by an indexed term and by a short one, title match first
        #expect(try replica.search(SearchQuery("quokka")).map(\.id) == [id, added])
        #expect(try replica.search(SearchQuery("Quokka sighting")).map(\.id) == [id])
        #expect(try replica.search(SearchQuery("袋鼠")).map(\.id) == [id])
    }

    // MARK: - The search before issue 20, statement for statement

    /// The single statement `Replica.search` ran before issue 20: every hit scored, counted,
    /// read and ordered.
    static func searchBeforeIssue20(_ replica: Replica, _ query: SearchQuery) throws -> [(id: String, score: Double)] {
        let terms = query.terms
        guard !terms.isEmpty, query.limit > 0 else { return [] }
        let fields: [(String, weight: Int)] = [("title", 10), ("summary", 4), ("body", 1)]
        func like(_ term: String) -> String {
            "%" + term.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
        }
        let indexed = terms.filter { $0.unicodeScalars.count >= 3 }
        let scanned = terms.filter { $0.unicodeScalars.count < 3 }
        var conditions: [String] = []
        var arguments: StatementArguments = []
        var source = "search_documents AS d"
        var score: String
        if indexed.isEmpty {
            score = scanned.map { _ in
                fields.map { field, weight in "\(weight) * (d.\(field) LIKE ? ESCAPE '\\')" }.joined(separator: " + ")
            }.joined(separator: " + ")
            for term in scanned { arguments += StatementArguments(Array(repeating: like(term), count: 3)) }
            score = "-(\(score))"
        } else {
            source = "search_index JOIN search_documents AS d ON d.docid = search_index.rowid"
            conditions.append("search_index MATCH ?")
            arguments += [indexed.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " AND ")]
            score = "bm25(search_index, 10.0, 4.0, 1.0)"
        }
        for term in scanned {
            conditions.append("(d.title LIKE ? ESCAPE '\\' OR d.summary LIKE ? ESCAPE '\\' OR d.body LIKE ? ESCAPE '\\')")
            arguments += StatementArguments(Array(repeating: like(term), count: 3))
        }
        if let kind = query.kind {
            conditions.append("d.kind = ?")
            arguments += [kind.rawValue]
        }
        if let language = query.language {
            conditions.append(
                "EXISTS (SELECT 1 FROM json_each(d.languages) AS l WHERE lower(l.value) = lower(?) OR lower(l.value) LIKE lower(?) || '-%')"
            )
            arguments += [language, language]
        }
        let occurrence = "(length(d.body) - length(replace(lower(d.body), lower(?), ''))) / length(?)"
        let occurrences = Array(repeating: occurrence, count: terms.count).joined(separator: " + ")
        for term in terms { arguments += [term, term] }
        let sql = """
            SELECT d.record_id, \(score) AS score FROM \(source)
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY score, \(occurrences) DESC, d.title, d.record_id
            LIMIT ?
            """
        return try replica.database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments + [query.limit]).map { row in (id: row[0] as String, score: row[1] as Double) }
        }
    }
}

/// The ranking `Replica.search` promises, computed in Swift from the visible records: FTS5's
/// bm25 over trigrams for terms of three characters or more (case folded, as the trigram
/// tokenizer folds the ASCII and Hangul text of these tests), weighted LIKE matches for shorter
/// ones, then occurrences in the body, title and id.
struct RankedScan {
    struct Document {
        var id: String
        var kind: RecordKind
        var languages: [String]
        var columns: [String]  // title, summary, body
        /// The columns as unicode scalars, ASCII letters lowered.
        var folded: [[Unicode.Scalar]]
        /// The trigram tokenizer's tokens: one per character but the last two of each column.
        var tokens: Int
    }

    let documents: [Document]

    init(records: [RecordState]) {
        documents = records.filter { !$0.isDeleted }.map { record in
            let values = record.values
            let text = { (name: String) in values[name]?.stringValue ?? "" }
            let story = record.kind == .story
            let columns = story ? [text("title"), text("summary"), text("body")] : [text("name"), "", text("description")]
            return Document(
                id: record.id, kind: record.kind,
                languages: story ? (values["language"]?.stringValue).map { [$0] } ?? [] : values["languages"]?.stringArrayValue ?? [],
                columns: columns, folded: columns.map { Self.fold($0) },
                tokens: columns.map { max($0.unicodeScalars.count - 2, 0) }.reduce(0, +))
        }
    }

    func search(_ query: SearchQuery) -> [String] {
        let terms = query.terms
        guard !terms.isEmpty, query.limit > 0 else { return [] }
        let indexed = terms.filter { $0.unicodeScalars.count >= 3 }
        let scanned = terms.filter { $0.unicodeScalars.count < 3 }
        let weights = [10.0, 4.0, 1.0]
        let averageTokens = Double(documents.map(\.tokens).reduce(0, +)) / Double(documents.count)
        let inverseFrequency = indexed.map { term -> Double in
            let hits = documents.filter { document in document.folded.contains { count(term, in: $0) > 0 } }.count
            let idf = log((Double(documents.count - hits) + 0.5) / (Double(hits) + 0.5))
            return idf <= 0 ? 1e-6 : idf
        }
        var ranked: [(document: Document, score: Double, occurrences: Int)] = []
        for document in documents {
            guard query.kind.map({ $0 == document.kind }) ?? true, matchesLanguage(document, query.language) else { continue }
            guard indexed.allSatisfy({ term in document.folded.contains { count(term, in: $0) > 0 } }),
                scanned.allSatisfy({ term in document.folded.contains { count(term, in: $0) > 0 } })
            else { continue }
            var score = 0.0
            if indexed.isEmpty {
                score = -Double(scanned.map { term in zip([10, 4, 1], document.folded).map { count(term, in: $1) > 0 ? $0 : 0 }.reduce(0, +) }.reduce(0, +))
            } else {
                let length = Double(document.tokens)
                for (term, idf) in zip(indexed, inverseFrequency) {
                    let frequency = zip(weights, document.folded).map { $0 * Double(count(term, in: $1)) }.reduce(0, +)
                    score += idf * ((frequency * (1.2 + 1.0)) / (frequency + 1.2 * (1 - 0.75 + 0.75 * length / averageTokens)))
                }
                score = -1.0 * score
            }
            let occurrences = terms.map { term in
                let body = document.columns[2]
                let rest = String(String.UnicodeScalarView(document.folded[2])).replacingOccurrences(of: String(String.UnicodeScalarView(Self.fold(term))), with: "")
                return (body.unicodeScalars.count - rest.unicodeScalars.count) / term.unicodeScalars.count
            }.reduce(0, +)
            ranked.append((document, score, occurrences))
        }
        ranked.sort { a, b in
            if a.score != b.score { return a.score < b.score }
            if a.occurrences != b.occurrences { return a.occurrences > b.occurrences }
            let (titleA, titleB) = (Array(a.document.columns[0].utf8), Array(b.document.columns[0].utf8))
            if titleA != titleB { return titleA.lexicographicallyPrecedes(titleB) }
            return Array(a.document.id.utf8).lexicographicallyPrecedes(Array(b.document.id.utf8))
        }
        return ranked.prefix(query.limit).map(\.document.id)
    }

    /// Matches of `term` in a folded column, overlapping ones too, as FTS5 counts a phrase's
    /// instances; more than none is also what LIKE '%term%' finds.
    private func count(_ term: String, in column: [Unicode.Scalar]) -> Int {
        let needle = Self.fold(term)
        guard needle.count <= column.count else { return 0 }
        return (0...(column.count - needle.count)).filter { start in column[start..<(start + needle.count)].elementsEqual(needle) }.count
    }

    /// Case ignored for ASCII letters only, as by LIKE and lower(), and by the trigram tokenizer
    /// for the text of these tests.
    private static func fold(_ text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.map { (65...90).contains($0.value) ? Unicode.Scalar($0.value + 32)! : $0 }
    }

    private func matchesLanguage(_ document: Document, _ language: String?) -> Bool {
        guard let language = language?.lowercased() else { return true }
        return document.languages.contains { $0.lowercased() == language || $0.lowercased().hasPrefix(language + "-") }
    }
}

/// Seeded records of English, Korean and Chinese words from a small vocabulary, so that terms
/// hit many records, often several times, and scores tie.
struct Corpus {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    static let english = [
        "shelter", "Shelter", "river", "River", "crossing", "night", "Night", "broker", "the", "a", "at", "Tumen",
        "driver", "silver", "cover", "1999", "hope", "quiet", "walk", "help",
    ]
    static let korean = ["탈북", "탈북민", "여성", "정착", "지원", "하나원", "석", "달", "강", "두만강", "센터", "이야기", "밤"]
    static let chinese = ["延边", "朝鲜族", "自治州", "村子", "的"]

    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }

    mutating func words(_ count: Int) -> String {
        (0..<count).map { _ in
            let list = [Self.english, Self.korean, Self.english, Self.korean, Self.chinese][next(5)]
            return list[next(list.count)]
        }.joined(separator: next(4) == 0 ? "" : " ")
    }

    /// Downloads `count` records from scratch, `pageSize` to a page, as a first sync does.
    mutating func download(into replica: Replica, count: Int, pageSize: Int) throws {
        let stamp = Fixtures.stamp(Fixtures.epoch - 100_000)
        let records = (0..<count).map { index -> RecordState in
            let id = String(format: "%08x-0000-4000-8000-%012x", next(1 << 30), index)
            if index % 3 == 2 {
                let languages: [JSONValue] = next(2) == 0 ? ["ko", "en"] : ["en"]
                let fields: [String: JSONValue] = [
                    "name": .string(words(1 + next(4))), "description": .string(words(next(60))),
                    "languages": .array(languages), "category": "hotline", "country": "KR",
                ]
                return RecordState(id: id, kind: .resource, fields: fields.mapValues { Register($0, stamp: stamp) })
            }
            var fields: [String: JSONValue] = [
                "title": .string(words(1 + next(6))), "body": .string(words(next(200))),
                "language": next(2) == 0 ? "ko" : "en",
            ]
            if next(3) > 0 { fields["summary"] = .string(words(next(20))) }
            return Fixtures.storyDelta(id, fields, at: stamp)
        }
        for start in stride(from: 0, to: records.count, by: pageSize) {
            let end = min(start + pageSize, records.count)
            try replica.apply(
                Fixtures.page(
                    Array(records[start..<end]), cursor: end < records.count ? SyncCursor(epoch: "5f1c0a9e", seq: 0, position: Int64(end)) : Fixtures.cursor(1),
                    more: end < records.count))
        }
    }

    /// Edits, adds and deletes records here after the sync, unsent.
    mutating func editLocally(_ replica: Replica) throws {
        let stories = try replica.records(.story)
        for story in stories.prefix(30) {
            switch next(3) {
            case 0: try replica.edit(story.id, values: ["title": .string(words(1 + next(5)))])
            case 1: try replica.edit(story.id, values: ["body": .string(words(1 + next(100))), "summary": .null])
            default: _ = try replica.delete(story.id)
            }
        }
        for _ in 0..<20 {
            try replica.add(.story, values: Fixtures.story(words(1 + next(5)), body: words(1 + next(80))))
        }
    }
}
